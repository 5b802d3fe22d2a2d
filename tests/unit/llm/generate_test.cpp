// End to end: the llm_cli binary and generate() against run.c's reference outputs.
#include <math.h>
#include <stdlib.h>

#include <sstream>

#include "llm/generate.h"
#include "test_util.h"

using namespace llmtest;

namespace {

struct RefCase {
    const char *name;    // file name part
    const char *prompt;
};
void PrintTo(const RefCase &c, std::ostream *os) { *os << '"' << c.prompt << '"'; }
const RefCase kCases[] = {{"empty", ""}, {"the_robot", "The robot"}, {"echoes_of", "Echoes of"}};

std::string cli_cmd(const char *prompt, const std::string &extra) {
    return std::string("'") + BF_LLM_CLI + "' generate '" + shared_path("models/aidreams260K.bin") +
           "' '" + shared_path("models/tok512.bin") + "' -p '" + prompt + "' " + extra +
           " 2>/dev/null";
}

struct TraceLine {
    int pos = -1, token = -1, argmax = -1;
    std::vector<double> logits;
    double max = 0;
};

std::vector<TraceLine> parse_trace(const std::string &text, std::string &err) {
    std::vector<TraceLine> out;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream ls(line);
        std::string w;
        TraceLine t;
        ls >> w >> t.pos;
        if (w != "pos") { err = "bad line: " + line; return {}; }
        ls >> w >> t.token;
        if (w != "token") { err = "bad line: " + line; return {}; }
        ls >> w;
        if (w != "logits") { err = "bad line: " + line; return {}; }
        while (ls >> w && w != "argmax") t.logits.push_back(strtod(w.c_str(), nullptr));
        ls >> t.argmax >> w >> t.max;
        if (w != "max" || ls.fail()) { err = "bad line: " + line; return {}; }
        out.push_back(t);
    }
    return out;
}

bool close(double got, double want) {
    return fabs(got - want) <= fmax(1e-5, 1e-4 * fabs(want));
}

class Reference : public ::testing::TestWithParam<RefCase> {
protected:
    void SetUp() override {
        LLM_REQUIRE_FILE(shared_path("models/aidreams260K.bin"));
        LLM_REQUIRE_FILE(shared_path("models/tok512.bin"));
        LLM_REQUIRE_FILE(shared_path(("reference/aidreams260K.greedy." + std::string(GetParam().name) + ".txt").c_str()));
    }
};

}  // namespace

TEST_P(Reference, GreedyOutputIsByteExact) {
    const RefCase &c = GetParam();
    const std::string want = read_text(shared_path(("reference/aidreams260K.greedy." + std::string(c.name) + ".txt").c_str()));
    int status = -1;
    const std::string got = run_capture(cli_cmd(c.prompt, "-t 0 -n 256"), &status);
    EXPECT_EQ(status, 0);
    EXPECT_EQ(got, want);
}

TEST_P(Reference, TraceMatchesNumerically) {
    const RefCase &c = GetParam();
    const std::string ref_path = shared_path(("reference/aidreams260K.trace." + std::string(c.name) + ".txt").c_str());
    LLM_REQUIRE_FILE(ref_path);
    std::string err;
    const auto want = parse_trace(read_text(ref_path), err);
    ASSERT_TRUE(err.empty()) << err;
    int status = -1;
    const auto got = parse_trace(run_capture(cli_cmd(c.prompt, "-t 0 -n 256 --trace"), &status), err);
    ASSERT_TRUE(err.empty()) << err;
    EXPECT_EQ(status, 0);
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < want.size(); i++) {
        SCOPED_TRACE("line " + std::to_string(i + 1));
        EXPECT_EQ(got[i].pos, want[i].pos);
        EXPECT_EQ(got[i].token, want[i].token);
        EXPECT_EQ(got[i].argmax, want[i].argmax);
        ASSERT_EQ(got[i].logits.size(), want[i].logits.size());
        for (size_t j = 0; j < want[i].logits.size(); j++)
            EXPECT_TRUE(close(got[i].logits[j], want[i].logits[j]))
                << "logit " << j << ": " << got[i].logits[j] << " vs " << want[i].logits[j];
        EXPECT_TRUE(close(got[i].max, want[i].max)) << got[i].max << " vs " << want[i].max;
    }
}

// The library entry point gives the same text (without the final newline) and calls the hooks.
TEST_P(Reference, GenerateInProcess) {
    const RefCase &c = GetParam();
    Image mf = read_image(shared_path("models/aidreams260K.bin"));
    Image tf = read_image(shared_path("models/tok512.bin"));
    bf::llm::Model m;
    bf::llm::Tokenizer tok;
    std::string err;
    ASSERT_TRUE(bf::llm::load_model(mf.data(), mf.size, m, err)) << err;
    ASSERT_TRUE(bf::llm::load_tokenizer(tf.data(), tf.size, m.config.vocab_size, tok, err)) << err;
    bf::llm::Sampler sampler(m.config.vocab_size, 0.0f, 0.9f, 1);
    struct Counts {
        int logits = 0, tokens = 0, prompt = 0;
        std::string pieces;
    } counts;
    bf::llm::GenerateHooks hooks;
    hooks.user = &counts;
    hooks.on_logits = [](void *u, int, int, const float *, int n) {
        static_cast<Counts *>(u)->logits += n == 512;
    };
    hooks.on_token = [](void *u, int, int, int, bool in_prompt) {
        static_cast<Counts *>(u)->tokens++;
        static_cast<Counts *>(u)->prompt += in_prompt;
    };
    hooks.on_piece = [](void *u, const char *p) { static_cast<Counts *>(u)->pieces += p; };
    std::string text;
    bf::llm::GenerateStats st;
    ASSERT_TRUE(bf::llm::generate(m, tok, sampler, c.prompt, 256, text, err, &hooks, &st)) << err;
    std::string want = read_text(shared_path(("reference/aidreams260K.greedy." + std::string(c.name) + ".txt").c_str()));
    ASSERT_FALSE(want.empty());
    want.pop_back();  // the final newline is the CLI's
    EXPECT_EQ(text, want);
    EXPECT_EQ(counts.pieces, text);
    EXPECT_EQ(counts.logits, 128);  // seq_len positions, no BOS produced
    EXPECT_EQ(counts.tokens, 128);
    EXPECT_EQ(counts.prompt, st.n_prompt_tokens - 1);
    EXPECT_EQ(st.n_positions, 128);
    EXPECT_EQ(st.n_generated, 128 - (st.n_prompt_tokens - 1));
}

INSTANTIATE_TEST_SUITE_P(Aidreams260K, Reference, ::testing::ValuesIn(kCases),
                         [](const auto &info) { return std::string(info.param.name); });

TEST(Cli, StepsLimitAndSampling) {
    LLM_REQUIRE_FILE(shared_path("models/aidreams260K.bin"));
    LLM_REQUIRE_FILE(shared_path("models/tok512.bin"));
    // -n 5 runs 5 positions: the greedy text is a prefix of the full one.
    const std::string full = run_capture(cli_cmd("The robot", "-t 0"));
    const std::string five = run_capture(cli_cmd("The robot", "-t 0 -n 5"));
    ASSERT_FALSE(five.empty());
    EXPECT_EQ(full.compare(0, five.size() - 1, five, 0, five.size() - 1), 0);
    EXPECT_LT(five.size(), full.size());
    // Sampling with a fixed seed is reproducible; another seed gives another text.
    const std::string a = run_capture(cli_cmd("The robot", "-t 1.0 -P 0.9 -s 42"));
    const std::string b = run_capture(cli_cmd("The robot", "-t 1.0 -P 0.9 -s 42"));
    const std::string c = run_capture(cli_cmd("The robot", "-t 1.0 -P 0.9 -s 7"));
    const std::string d = run_capture(cli_cmd("The robot", "-t 1.2 -P 0 -s 42"));
    EXPECT_EQ(a, b);
    EXPECT_NE(a, c);
    EXPECT_NE(a, d);
    EXPECT_EQ(a.compare(0, 9, "The robot"), 0);
    EXPECT_EQ(a.back(), '\n');
}

TEST(Cli, Errors) {
    int status = 0;
    std::string out = run_capture(std::string("'") + BF_LLM_CLI + "' generate /nonexistent/m.bin /nonexistent/t.bin 2>&1", &status);
    EXPECT_NE(status, 0);
    EXPECT_NE(out.find("cannot open /nonexistent/m.bin"), std::string::npos) << out;
    out = run_capture(std::string("'") + BF_LLM_CLI + "' generate a b -n x 2>&1", &status);
    EXPECT_NE(status, 0);
    EXPECT_NE(out.find("generate: -n (steps): 'x' is not an integer"), std::string::npos) << out;
    out = run_capture(std::string("'") + BF_LLM_CLI + "' generate 2>&1", &status);
    EXPECT_NE(status, 0);
    EXPECT_NE(out.find("usage:"), std::string::npos) << out;
    if (file_exists(shared_path("models/aidreams260K.bin"))) {
        // A tokenizer of the wrong vocabulary is refused with the reason.
        out = run_capture(std::string("'") + BF_LLM_CLI + "' generate '" +
                              shared_path("models/aidreams260K.bin") + "' '" +
                              shared_path("models/tokenizer.bin") + "' 2>&1",
                          &status);
        EXPECT_NE(status, 0);
        EXPECT_NE(out.find("tokenizer: has 32000 tokens but the model's vocabulary is 512"),
                  std::string::npos) << out;
    }
}

// GGUF files made by llama.cpp's own converter and quantizer, against llama.cpp's greedy texts
// (../shared/gguf/README.md): f32, and Q4_K_M (a mix of Q5_0, Q8_0, F16 and F32 tensors), each
// with its own vocabulary; and once with the llama2.c tokenizer of the same 512 tokens instead.
struct GgufCase {
    const char *file, *name, *prompt;
};
void PrintTo(const GgufCase &c, std::ostream *os) { *os << c.file << " \"" << c.prompt << '"'; }

class GgufReference : public ::testing::TestWithParam<GgufCase> {};

TEST_P(GgufReference, GreedyOutputEqualsLlamaCpp) {
    const GgufCase &c = GetParam();
    const std::string model = shared_path((std::string("gguf/aidreams260K-") + c.file + ".gguf").c_str());
    const std::string ref =
        shared_path((std::string("reference/gguf/aidreams260K-") + c.file + ".greedy." + c.name + ".txt").c_str());
    LLM_REQUIRE_FILE(model);
    LLM_REQUIRE_FILE(ref);
    // llama.cpp ran 128 positions (its context) once each, as run.c does.
    int status = -1;
    const std::string got = run_capture(std::string("'") + BF_LLM_CLI + "' generate '" + model +
                                            "' -t 0 -n 128 -p '" + c.prompt + "' 2>/dev/null",
                                        &status);
    EXPECT_EQ(status, 0);
    EXPECT_EQ(got, read_text(ref));
    const std::string with_bin = run_capture(std::string("'") + BF_LLM_CLI + "' generate '" + model + "' '" +
                                                 shared_path("models/tok512.bin") + "' -t 0 -n 128 -p '" + c.prompt +
                                                 "' 2>/dev/null",
                                             &status);
    EXPECT_EQ(status, 0);
    EXPECT_EQ(with_bin, got);
}

INSTANTIATE_TEST_SUITE_P(
    Llamacpp, GgufReference,
    ::testing::Values(GgufCase{"f32", "the_robot", "The robot"}, GgufCase{"f32", "echoes_of", "Echoes of"},
                      GgufCase{"f32", "once_upon_a_time", "Once upon a time"},
                      GgufCase{"Q4_K_M", "the_robot", "The robot"}, GgufCase{"Q4_K_M", "echoes_of", "Echoes of"},
                      GgufCase{"Q4_K_M", "once_upon_a_time", "Once upon a time"}));
