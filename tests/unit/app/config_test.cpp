// parse_config and overlay_env: defaults, every key, every error class, the environment overlay.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "config.h"

using bf::app::Settings;

namespace {

struct Parsed {
    Settings c;
    std::vector<std::string> errors;
    bool ok;
};

Parsed parse(std::string_view text) {
    Parsed p;
    p.ok = bf::app::parse_config(text, p.c, p.errors);
    return p;
}

bool has_error(const Parsed &p, const std::string &needle) {
    for (const auto &e : p.errors)
        if (e.find(needle) != std::string::npos) return true;
    return false;
}

}  // namespace

TEST(Config, Defaults) {
    const Parsed p = parse("");
    EXPECT_TRUE(p.ok);
    EXPECT_EQ(p.c.model, "/MODELS/MODEL.BIN");
    EXPECT_EQ(p.c.tokenizer, "/MODELS/TOKENIZ.BIN");
    EXPECT_EQ(p.c.steps, 256);
    EXPECT_EQ(p.c.temperature, 0.0f);
    EXPECT_FLOAT_EQ(p.c.topp, 0.9f);
    EXPECT_EQ(p.c.seed, 0u);
    EXPECT_EQ(p.c.mode, bf::app::Mode::Generate);
    EXPECT_EQ(p.c.jit, bf::app::Tristate::Unset);
}

TEST(Config, AllKeysCommentsBlankLinesAndCase) {
    const Parsed p = parse(
        "\xEF\xBB\xBF# BareFlow\r\n\n   \nMODEL = /MODELS/STORIES.BIN\r\ntokenizer=/MODELS/T.BIN\n"
        "Prompt = \"Once upon a \\\"time\\\" # not a comment\"\nsteps = 64\ntemperature = 0.8\n"
        "topp = 1\nseed = 18446744073709551615\njit = OFF\njit_cache = clear\njit_hot_calls = 10\n"
        "jit_hot_cycles = 123456789\nmode = repl\n  # indented comment");
    EXPECT_TRUE(p.ok) << (p.errors.empty() ? "" : p.errors[0]);
    EXPECT_EQ(p.c.model, "/MODELS/STORIES.BIN");
    EXPECT_EQ(p.c.tokenizer, "/MODELS/T.BIN");
    EXPECT_EQ(p.c.prompt, "Once upon a \"time\" # not a comment");
    EXPECT_EQ(p.c.steps, 64);
    EXPECT_FLOAT_EQ(p.c.temperature, 0.8f);
    EXPECT_FLOAT_EQ(p.c.topp, 1.0f);
    EXPECT_EQ(p.c.seed, UINT64_MAX);
    EXPECT_EQ(p.c.jit, bf::app::Tristate::Off);
    EXPECT_EQ(p.c.jit_cache, bf::app::JitCache::Clear);
    EXPECT_EQ(p.c.jit_hot_calls, 10);
    EXPECT_EQ(p.c.jit_hot_cycles, 123456789);
    EXPECT_EQ(p.c.mode, bf::app::Mode::Repl);
}

TEST(Config, UnquotedPromptKeepsItsText) {
    const Parsed p = parse("prompt = The robot = a friend\n");
    EXPECT_TRUE(p.ok);
    EXPECT_EQ(p.c.prompt, "The robot = a friend");
}

TEST(Config, UnknownKey) {
    const Parsed p = parse("steps = 5\ncolour = blue\n");
    EXPECT_FALSE(p.ok);
    ASSERT_EQ(p.errors.size(), 1u);
    EXPECT_EQ(p.errors[0], "line 2: key 'colour': unknown key");
    EXPECT_EQ(p.c.steps, 5);
}

TEST(Config, BadNumbersKeepDefaults) {
    const Parsed p = parse("steps = abc\ntemperature = 1.5x\nseed = 1.5\ntopp = nan\njit_hot_calls = 9e9\n");
    EXPECT_EQ(p.errors.size(), 5u);
    EXPECT_TRUE(has_error(p, "line 1: key 'steps': 'abc' is not an integer"));
    EXPECT_TRUE(has_error(p, "line 2: key 'temperature': '1.5x' is not a finite number"));
    EXPECT_TRUE(has_error(p, "line 3: key 'seed':"));
    EXPECT_TRUE(has_error(p, "line 4: key 'topp':"));
    EXPECT_TRUE(has_error(p, "line 5: key 'jit_hot_calls':"));
    EXPECT_EQ(p.c.steps, 256);
    EXPECT_EQ(p.c.temperature, 0.0f);
    EXPECT_EQ(p.c.seed, 0u);
    EXPECT_FLOAT_EQ(p.c.topp, 0.9f);
}

TEST(Config, OutOfRange) {
    const Parsed p = parse("temperature = -0.5\ntopp = -0.25\ntopp = 1.01\nsteps = -3\n"
                           "seed = 99999999999999999999\nsteps = 99999999999\n");
    EXPECT_EQ(p.errors.size(), 6u);
    EXPECT_TRUE(has_error(p, "line 1: key 'temperature': '-0.5' is negative"));
    EXPECT_TRUE(has_error(p, "line 2: key 'topp': '-0.25' is out of range [0, 1]"));
    EXPECT_TRUE(has_error(p, "line 3: key 'topp': '1.01' is out of range"));
    EXPECT_TRUE(has_error(p, "line 4: key 'steps': '-3' is out of range"));
    EXPECT_TRUE(has_error(p, "line 5: key 'seed': '99999999999999999999' is out of range"));
    EXPECT_TRUE(has_error(p, "line 6: key 'steps'"));
    EXPECT_EQ(p.c.temperature, 0.0f);
    EXPECT_EQ(p.c.steps, 256);
}

TEST(Config, BadWords) {
    const Parsed p = parse("jit = maybe\njit_cache = wipe\nmode = chat\n");
    EXPECT_EQ(p.errors.size(), 3u);
    EXPECT_TRUE(has_error(p, "line 1: key 'jit': 'maybe' is not one of on|off"));
    EXPECT_TRUE(has_error(p, "line 2: key 'jit_cache': 'wipe' is not one of on|off|clear"));
    EXPECT_TRUE(has_error(p, "line 3: key 'mode': 'chat' is not one of generate|repl|bench"));
    EXPECT_EQ(p.c.mode, bf::app::Mode::Generate);
}

TEST(Config, JitCompile) {
    EXPECT_EQ(parse("").c.jit_compile, bf::app::JitCompile::Background);
    EXPECT_EQ(parse("jit_compile = INLINE\n").c.jit_compile, bf::app::JitCompile::Inline);
    EXPECT_EQ(parse("jit_compile = inline\njit_compile = background\n").c.jit_compile, bf::app::JitCompile::Background);
    const Parsed p = parse("jit_compile = later\n");
    EXPECT_TRUE(has_error(p, "line 1: key 'jit_compile': 'later' is not one of background|inline"));
    EXPECT_EQ(p.c.jit_compile, bf::app::JitCompile::Background);
}

TEST(Config, MissingEqualsAndKey) {
    const Parsed p = parse("steps 12\n= 5\nmodel =\n");
    EXPECT_EQ(p.errors.size(), 3u);
    EXPECT_TRUE(has_error(p, "line 1: missing '=' in 'steps 12'"));
    EXPECT_TRUE(has_error(p, "line 2: missing key before '='"));
    EXPECT_TRUE(has_error(p, "line 3: key 'model': empty path"));
    EXPECT_EQ(p.c.model, "/MODELS/MODEL.BIN");
}

TEST(Config, BadQuotes) {
    const Parsed p = parse("prompt = \"open\nprompt = \"a\" b\nprompt = \"\\q\"\n");
    EXPECT_EQ(p.errors.size(), 3u);
    EXPECT_TRUE(has_error(p, "line 1: key 'prompt': unterminated quoted string"));
    EXPECT_TRUE(has_error(p, "line 2: key 'prompt': text after the closing quote"));
    EXPECT_TRUE(has_error(p, "line 3: key 'prompt': unknown escape"));
}

TEST(Config, LongLineNulAndInvalidUtf8) {
    std::string text = "steps = 7\nprompt = " + std::string(5000, 'x') + "\n";
    text += std::string("seed = 1\0\n", 10);
    text += "prompt = caf\xC3\xA9\nprompt = \xFF\xFE\ntopp = 0.5";
    const Parsed p = parse(text);
    EXPECT_EQ(p.errors.size(), 3u);
    EXPECT_TRUE(has_error(p, "line 2: key 'prompt': line too long (5009 bytes, max 4096), ignored"));
    EXPECT_TRUE(has_error(p, "line 3: key 'seed': line has a NUL byte"));
    EXPECT_TRUE(has_error(p, "line 5: key 'prompt': not valid UTF-8"));
    EXPECT_EQ(p.c.steps, 7);
    EXPECT_EQ(p.c.seed, 0u);
    EXPECT_EQ(p.c.prompt, "caf\xC3\xA9");
    EXPECT_FLOAT_EQ(p.c.topp, 0.5f);
}

TEST(Config, GarbageNeverCrashes) {
    std::string g;
    uint32_t s = 1;
    for (int i = 0; i < 100000; i++) {
        s = s * 1103515245 + 12345;
        g += char(s >> 16);
    }
    Settings c;
    std::vector<std::string> errors;
    bf::app::parse_config(g, c, errors);
    for (const auto &e : errors) EXPECT_EQ(e.rfind("line ", 0), 0u) << e;
}

TEST(Config, EnvironmentOverridesFile) {
    Parsed p = parse("steps = 10\ntemperature = 0.5\nmodel = /A.BIN\n");
    ASSERT_TRUE(p.ok);
    const char *env[] = {"PATH=/usr/bin", "steps=20", "TEMPERATURE=0", "jit=off", "noequals",
                         "topp=7", "prompt=\"hi there\"", nullptr};
    std::vector<std::string> errors;
    EXPECT_FALSE(bf::app::overlay_env(p.c, errors, env, bf::app::EnvSource::Environment));
    ASSERT_EQ(errors.size(), 1u);  // PATH is not ours to judge
    EXPECT_EQ(errors[0], "environment: key 'topp': '7' is out of range [0, 1]");
    EXPECT_EQ(p.c.steps, 20);
    EXPECT_EQ(p.c.temperature, 0.0f);
    EXPECT_EQ(p.c.model, "/A.BIN");
    EXPECT_EQ(p.c.jit, bf::app::Tristate::Off);
    EXPECT_FLOAT_EQ(p.c.topp, 0.9f);
    EXPECT_EQ(p.c.prompt, "hi there");
}

TEST(Config, ApplySetting) {
    Settings c;
    std::string err;
    EXPECT_TRUE(bf::app::apply_setting("Seed", "42", c, err));
    EXPECT_EQ(c.seed, 42u);
    EXPECT_FALSE(bf::app::apply_setting("seed", "", c, err));
    EXPECT_EQ(err, "'' is not an integer");
    EXPECT_FALSE(bf::app::apply_setting("nope", "1", c, err));
    EXPECT_EQ(err, "unknown key");
}

TEST(Config, ContextAndKvCache) {
    const Parsed p = parse("ctx = 2048\nkv = f32\n");
    EXPECT_TRUE(p.ok);
    EXPECT_EQ(p.c.ctx, 2048);
    EXPECT_EQ(p.c.kv, bf::app::KvType::F32);
    const Parsed bad = parse("ctx = -1\nkv = f8\n");
    ASSERT_EQ(bad.errors.size(), 2u);
    EXPECT_EQ(bad.errors[0], "line 1: key 'ctx': '-1' is out of range [0, 4194304]");
    EXPECT_EQ(bad.errors[1], "line 2: key 'kv': 'f8' is not one of auto|f16|f32");
    EXPECT_EQ(bad.c.ctx, 0);
    EXPECT_EQ(bad.c.kv, bf::app::KvType::Auto);
}

// The kernel command line is ours alone: an unknown key is a typo and is named; the source is
// named in every message (it used to read "BAREFLOW.CFG" whatever the source).
TEST(Config, KernelCmdlineNamesSourceAndUnknownKeys) {
    Settings c;
    const char *env[] = {"tempreature=0.5", "disk=bios", "bench_tg=8", "JIT=maybe", "steps=7", nullptr};
    std::vector<std::string> errors;
    EXPECT_FALSE(bf::app::overlay_env(c, errors, env, bf::app::EnvSource::KernelCmdline));
    ASSERT_EQ(errors.size(), 2u);
    EXPECT_EQ(errors[0].rfind("kernel command line: unknown key 'tempreature', ignored (settings: model, ", 0), 0u)
        << errors[0];
    EXPECT_EQ(errors[1], "kernel command line: key 'JIT': 'maybe' is not one of on|off");
    EXPECT_EQ(c.steps, 7);
    EXPECT_EQ(c.jit, bf::app::Tristate::Unset);
}

// Found by the probe: the generate flags replaced bad values by defaults. The validator they
// now share with BAREFLOW.CFG and `set` (llm/params.h) refuses each with one message.
TEST(Config, SamplingValuesSharedValidator) {
    Parsed p = parse("temperature = nan\ntopp = inf\ntopp = 2\nsteps = -5\ntemperature = -1\ntopp = 1e-45\n"
                     "seed = -1\n");
    EXPECT_TRUE(has_error(p, "line 1: key 'temperature': 'nan' is not a finite number"));
    EXPECT_TRUE(has_error(p, "line 2: key 'topp': 'inf' is not a finite number"));
    EXPECT_TRUE(has_error(p, "line 3: key 'topp': '2' is out of range [0, 1]"));
    EXPECT_TRUE(has_error(p, "line 4: key 'steps': '-5' is out of range [0, 2147483647]"));
    EXPECT_TRUE(has_error(p, "line 5: key 'temperature': '-1' is negative (must be >= 0; 0 = greedy)"));
    EXPECT_EQ(p.errors.size(), 5u);
    EXPECT_GT(p.c.topp, 0.0f);  // 1e-45 is a (denormal) float, not a "bad value"
    EXPECT_LT(p.c.topp, 1e-44f);
    EXPECT_EQ(p.c.seed, 0u);    // -1: from the clock, as run.c's -s -1
    p = parse("topp = 0\ntemperature = 1e39\n");
    EXPECT_EQ(p.c.topp, 0.0f);  // run.c's [0, 1]: 0 = the whole distribution
    EXPECT_TRUE(has_error(p, "line 2: key 'temperature': '1e39' is not a finite number"));
}

TEST(Config, RecordsChannelAndVerbose) {
    const Parsed p = parse("records = COM2\nverbose = 1\n");
    EXPECT_TRUE(p.ok);
    EXPECT_EQ(p.c.records, bf::app::Records::Com2);
    EXPECT_TRUE(p.c.verbose);
    EXPECT_EQ(parse("records = off\n").c.records, bf::app::Records::Off);
    EXPECT_EQ(parse("records = com1\n").c.records, bf::app::Records::Com1);
    const Parsed bad = parse("records = com3\nverbose = 2\n");
    ASSERT_EQ(bad.errors.size(), 2u);
    EXPECT_EQ(bad.errors[0], "line 1: key 'records': 'com3' is not one of auto|com1|com2|off");
    EXPECT_EQ(bad.errors[1], "line 2: key 'verbose': '2' is out of range [0, 1]");
    EXPECT_EQ(bad.c.records, bf::app::Records::Auto);
    EXPECT_FALSE(bad.c.verbose);
}

TEST(Config, Threads) {
    EXPECT_EQ(parse("").c.threads, 0);  // every core online
    const Parsed p = parse("threads = 2\n");
    EXPECT_TRUE(p.ok);
    EXPECT_EQ(p.c.threads, 2);
    EXPECT_EQ(parse("THREADS = 64\n").c.threads, 64);
    const Parsed bad = parse("threads = 65\nthreads = two\nthreads = -1\n");
    ASSERT_EQ(bad.errors.size(), 3u);
    EXPECT_EQ(bad.errors[0], "line 1: key 'threads': '65' is out of range [0, 64]");
    EXPECT_EQ(bad.c.threads, 0);
}
