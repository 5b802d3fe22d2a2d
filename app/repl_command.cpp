// parse_command: the REPL's pure line splitter (kept apart so the fuzz target links it alone).
#include "repl.h"

namespace bf::app {

Command parse_command(std::string_view line) {
    Command c;
    if (line.size() > kMaxReplLine) {
        c.error = "line too long (" + std::to_string(line.size()) + " bytes), ignored";
        return c;
    }
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    for (char ch : line) {
        const unsigned char u = static_cast<unsigned char>(ch);
        if ((u < 0x20 && u != '\t') || u == 0x7f) {
            c.error = "ignored: line has control bytes";
            return c;
        }
    }
    std::vector<std::string> words;
    size_t i = 0;
    while (i < line.size()) {
        while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) i++;
        if (i >= line.size()) break;
        std::string w;
        while (i < line.size() && line[i] != ' ' && line[i] != '\t') {
            const char ch = line[i];
            if (ch == '"' || ch == '\'') {
                const size_t open = i++;
                bool closed = false;
                while (i < line.size()) {
                    if (line[i] == ch) {
                        closed = true;
                        i++;
                        break;
                    }
                    if (ch == '"' && line[i] == '\\' && i + 1 < line.size() &&
                        (line[i + 1] == '"' || line[i + 1] == '\\'))
                        i++;
                    w += line[i++];
                }
                if (!closed) {
                    c.error = std::string("unterminated ") + (ch == '"' ? "double" : "single") +
                              " quote at column " + std::to_string(open + 1);
                    return c;
                }
            } else if (ch == '\\' && i + 1 < line.size()) {
                w += line[i + 1];
                i += 2;
            } else {
                w += ch;
                i++;
            }
        }
        words.push_back(std::move(w));
    }
    if (words.empty()) return c;
    if (words[0].empty()) {
        c.error = "empty command name (a quoted \"\" first word)";
        return c;
    }
    c.name = std::move(words[0]);
    for (char &ch : c.name)
        if (ch >= 'A' && ch <= 'Z') ch = char(ch - 'A' + 'a');
    c.args.assign(std::make_move_iterator(words.begin() + 1), std::make_move_iterator(words.end()));
    return c;
}

}  // namespace bf::app
