// Command-line words (cmdline.h). Freestanding: runs before glibc, no library calls.
#include "cmdline.h"

#include "../../boot/include/bootinfo.h"

namespace bf::cmdline {

bool next_word(const char **p, char *word, size_t cap, size_t *len, bool *is_kv, bool *open_quote) {
    const char *s = *p;
    while (*s == ' ') s++;
    if (!*s) {
        *p = s;
        return false;
    }
    size_t n = 0;
    bool kv = false, quoted = false;
    for (; *s && (quoted || *s != ' '); s++) {
        if (*s == '"') {
            quoted = !quoted;
            continue;
        }
        kv |= *s == '=' && !quoted;
        if (n + 1 < cap) word[n++] = *s;
    }
    word[n] = 0;
    *p = s;
    *len = n;
    *is_kv = kv;
    if (open_quote) *open_quote = quoted;
    return true;
}

bool has_word(const char *line, const char *w) {
    char word[BF_CMDLINE_MAX];
    size_t n = 0;
    bool kv = false;
    while (next_word(&line, word, sizeof word, &n, &kv)) {
        size_t i = 0;
        while (i < n && w[i] && word[i] == w[i]) i++;
        if (i == n && !w[i]) return true;
    }
    return false;
}

}  // namespace bf::cmdline
