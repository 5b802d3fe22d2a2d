// The interactive REPL for the serial console and the keyboard (stdin/stdout; on bare metal stdin
// is the line-disciplined console). Commands: help, models, load, info, generate|gen, set, show,
// profile, jit, bench, chat, quit|exit (`help` lists them with their arguments).
#pragma once
#include <stdio.h>

#include <string>
#include <string_view>
#include <vector>

#include "bareflow/kernel.h"
#include "config.h"

namespace bf::app {

// The console's line limit: bare metal refuses longer lines where it assembles them, hosted the
// REPL does, with the same message (BF_LINE_TOO_LONG).
constexpr size_t kMaxReplLine = bf::kMaxInputLine;

struct Command {
    std::string name;               // lower-cased first word; empty for an empty line
    std::vector<std::string> args;  // the other words, quotes removed
    std::string error;              // set when the line is unusable (then name/args are empty)
};

// Splits one line (without its newline) into words. Pure and total: any bytes in, a Command out.
// Words are separated by spaces/tabs; "double quotes" group and take \" and \\ escapes, 'single
// quotes' are literal, a backslash outside quotes escapes the next byte. Errors: a line above
// kMaxReplLine bytes ("line too long (N bytes), ignored"), control bytes ("ignored: line has
// control bytes"), an unterminated quote, an empty quoted first word.
Command parse_command(std::string_view line);

struct ReplOptions {
    FILE *in = stdin;
    FILE *out = stdout;
    Settings settings;   // model/tokenizer defaults, sampling settings
    bool prompt = true;  // print "bareflow> " before each line
};

// Runs until quit/exit or end of input. Returns 0.
int run_repl(const ReplOptions &opt);

}  // namespace bf::app
