// libFuzzer target: the kernel command-line tokenizer (kernel_lib/start/cmdline.cpp) on arbitrary
// bytes up to the first NUL, as stage 2 hands it over. Every word fits its buffer and is
// NUL-terminated, the walk always advances and ends, and only the last word can have an open quote
// (an unterminated quote runs to the end of the line).
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <string>

#include "kernel_lib/start/cmdline.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const std::string line(reinterpret_cast<const char *>(data), strnlen(reinterpret_cast<const char *>(data), size));
    char word[64];
    const char *p = line.c_str();
    size_t n = 0, words = 0;
    bool kv = false, open = false;
    while (bf::cmdline::next_word(&p, word, sizeof word, &n, &kv, &open)) {
        if (n >= sizeof word || word[n] != '\0' || strlen(word) > n) abort();
        if (p < line.c_str() || p > line.c_str() + line.size()) abort();
        if (open && *p != '\0') abort();
        if (++words > line.size()) abort();  // each word consumes at least one byte
    }
    (void)bf::cmdline::has_word(line.c_str(), "strace");
    return 0;
}
