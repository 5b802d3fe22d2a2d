// parse_command: words, quoting, escapes, empty lines, long lines, control bytes.
#include <gtest/gtest.h>

#include <string>

#include "repl.h"

using bf::app::parse_command;

TEST(Command, Words) {
    const bf::app::Command c = parse_command("  GEN\t-n 20  The robot  ");
    EXPECT_TRUE(c.error.empty());
    EXPECT_EQ(c.name, "gen");
    EXPECT_EQ(c.args, (std::vector<std::string>{"-n", "20", "The", "robot"}));
}

TEST(Command, Empty) {
    for (const char *l : {"", "   ", "\t \t", "\r"}) {
        const bf::app::Command c = parse_command(l);
        EXPECT_TRUE(c.error.empty()) << l;
        EXPECT_TRUE(c.name.empty());
        EXPECT_TRUE(c.args.empty());
    }
}

TEST(Command, Quoting) {
    bf::app::Command c = parse_command(R"(gen "The \"big\" robot" 'it''s \n' a\ b "" x"y"z)");
    ASSERT_TRUE(c.error.empty()) << c.error;
    EXPECT_EQ(c.args, (std::vector<std::string>{"The \"big\" robot", "its \\n", "a b", "", "xyz"}));
    c = parse_command(R"(load "C:\path\\x")");
    EXPECT_EQ(c.args, (std::vector<std::string>{"C:\\path\\x"}));
}

TEST(Command, EmptyQuotedName) {
    const bf::app::Command c = parse_command("'' x");
    EXPECT_EQ(c.error, "empty command name (a quoted \"\" first word)");
    EXPECT_TRUE(c.name.empty());
    EXPECT_TRUE(c.args.empty());
}

TEST(Command, CrlfIsStripped) {
    const bf::app::Command c = parse_command("quit\r");
    EXPECT_EQ(c.name, "quit");
    EXPECT_TRUE(c.args.empty());
}

TEST(Command, UnterminatedQuotes) {
    bf::app::Command c = parse_command("gen \"open");
    EXPECT_EQ(c.error, "unterminated double quote at column 5");
    EXPECT_TRUE(c.name.empty());
    c = parse_command("gen 'x");
    EXPECT_EQ(c.error, "unterminated single quote at column 5");
    c = parse_command("gen \"a\\\"");
    EXPECT_FALSE(c.error.empty());
}

TEST(Command, LongLine) {
    std::string l(bf::app::kMaxReplLine, 'x');
    EXPECT_TRUE(parse_command(l).error.empty());
    l += 'y';
    const bf::app::Command c = parse_command(l);
    EXPECT_EQ(c.error, "line too long (4097 bytes), ignored");
    EXPECT_TRUE(c.name.empty());
}

TEST(Command, ControlBytesAndGarbage) {
    for (std::string l : {std::string("help\x01"), std::string("\x1b[A"), std::string("a\0b", 3),
                          std::string("gen \x7f")}) {
        const bf::app::Command c = parse_command(l);
        EXPECT_EQ(c.error, "ignored: line has control bytes");
        EXPECT_TRUE(c.name.empty());
    }
    // High bytes are text (UTF-8 prompts), not garbage.
    const bf::app::Command c = parse_command("gen caf\xC3\xA9 \xFF");
    EXPECT_TRUE(c.error.empty());
    EXPECT_EQ(c.args.size(), 2u);
}
