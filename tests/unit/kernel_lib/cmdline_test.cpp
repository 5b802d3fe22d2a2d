// The kernel command-line tokenizer (kernel_lib/start/cmdline.cpp): words, quotes, key=value,
// and the unterminated quote that used to swallow the rest of the line silently.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "kernel_lib/start/cmdline.h"

namespace {

struct Word {
    std::string text;
    bool kv, open;
};

std::vector<Word> words(const char *line) {
    std::vector<Word> out;
    char w[256];
    size_t n = 0;
    bool kv = false, open = false;
    while (bf::cmdline::next_word(&line, w, sizeof w, &n, &kv, &open)) out.push_back({std::string(w, n), kv, open});
    return out;
}

}  // namespace

TEST(Cmdline, WordsQuotesAndKeys) {
    const auto w = words("repl  prompt=\"The robot\" strace -p \"a b\"");
    ASSERT_EQ(w.size(), 5u);
    EXPECT_EQ(w[0].text, "repl");
    EXPECT_EQ(w[1].text, "prompt=The robot");
    EXPECT_TRUE(w[1].kv);
    EXPECT_FALSE(w[1].open);
    EXPECT_EQ(w[4].text, "a b");
    EXPECT_FALSE(w[4].kv);
    EXPECT_TRUE(bf::cmdline::has_word("a strace b", "strace"));
    EXPECT_FALSE(bf::cmdline::has_word("a \"strace b\"", "strace"));
}

TEST(Cmdline, UnterminatedQuoteIsReported) {
    const auto w = words("steps=8 prompt=\"Once upon jit=off");
    ASSERT_EQ(w.size(), 2u);
    EXPECT_FALSE(w[0].open);
    EXPECT_TRUE(w[1].open);  // the caller refuses it instead of taking "jit=off" into the prompt
    EXPECT_EQ(w[1].text, "prompt=Once upon jit=off");
}
