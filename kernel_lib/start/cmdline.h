// The kernel command line's words: split at spaces; "double quotes" group words (-p "The robot")
// and are removed. The one reader of the command line: the kernel's own switches (strace,
// disk=bios, test=...) and the program's argv/environment both come from here, so a quoted
// prompt that contains "strace" is a prompt, not a switch.
#pragma once
#include <stddef.h>

namespace bf::cmdline {

// Copies the next word at *p into word (at most cap - 1 bytes, NUL-terminated; longer words
// are cut) and advances *p past it. is_kv: the word has an '=' outside quotes (key=value).
// open_quote (optional): a '"' in the word is never closed, so the word runs to the end of the
// line; callers refuse such a word rather than take the rest of the line as one value.
// False at the end of the line.
bool next_word(const char **p, char *word, size_t cap, size_t *len, bool *is_kv, bool *open_quote = nullptr);

// True when `line` has `w` as a whole word.
bool has_word(const char *line, const char *w);

}  // namespace bf::cmdline
