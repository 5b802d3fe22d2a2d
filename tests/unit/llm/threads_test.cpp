// The forward pass split over the pool's cores (generate.cpp: matmul rows for one position,
// groups of positions for a prompt) computes every logit bit for bit as one core does, for every
// weight type: each output element is computed by exactly one core with the same code.
#include <string.h>

#include "bareflow/pool.h"
#include "llm/generate.h"
#include "llm/loader.h"
#include "llm/model.h"
#include "test_util.h"

using namespace llmtest;
using bf::llm::Model;
using bf::llm::RunState;

namespace {

// Logits of a prompt of n positions (batched, every position's logits) followed by `tg` single
// positions, at `threads` threads.
std::vector<float> run(const Model &m, int threads, int n, int tg) {
    EXPECT_EQ(bf::pool::set_threads(threads), threads);
    const int V = m.config.vocab_size;
    RunState s;
    std::string err;
    EXPECT_TRUE(s.init(m.config, err)) << err;
    std::vector<int> tok(size_t(n + tg));
    for (int i = 0; i < n + tg; i++) tok[size_t(i)] = (i * 37 + 5) % (V - 1) + 1;
    std::vector<float> out;
    for (int pos0 = 0; pos0 < n; pos0 += RunState::kBatch) {
        const int b = std::min(RunState::kBatch, n - pos0);
        EXPECT_TRUE(bf::llm::forward_batch(m, s, tok.data() + pos0, b, pos0, true));
        out.insert(out.end(), s.blogits, s.blogits + size_t(b) * size_t(V));
    }
    for (int pos = n; pos < n + tg; pos++) {
        const float *l = bf::llm::forward(m, s, tok[size_t(pos)], pos);
        EXPECT_NE(l, nullptr);
        if (l) out.insert(out.end(), l, l + V);
    }
    return out;
}

void expect_same_at_every_thread_count(const std::string &model, const std::string &tokenizer) {
    if (bf::pool::cores_online() < 2) GTEST_SKIP() << "one CPU: nothing to split";
    bf::llm::LoadedModel lm;
    std::string err;
    bf::llm::LoadOptions opt;
    opt.ctx = 64;
    ASSERT_TRUE(bf::llm::load(model, tokenizer, lm, err, opt)) << err;
    const std::vector<float> one = run(lm.model, 1, 39, 6);
    for (int t = 2; t <= bf::pool::cores_online(); t++) {
        const std::vector<float> many = run(lm.model, t, 39, 6);
        ASSERT_EQ(many.size(), one.size());
        for (size_t i = 0; i < one.size(); i++)
            ASSERT_EQ(memcmp(&many[i], &one[i], sizeof(float)), 0)
                << model << ": " << t << " threads, value " << i << ": " << many[i] << " vs " << one[i];
    }
    bf::pool::set_threads(bf::pool::cores_online());
}

class EveryThreadCount : public ::testing::TestWithParam<const char *> {};

TEST_P(EveryThreadCount, SameLogitsAsOneCore) {
    const std::string path = shared_path((std::string("gguf/quant/syn3M-") + GetParam() + ".gguf").c_str());
    LLM_REQUIRE_FILE(path);
    expect_same_at_every_thread_count(path, "");
}

INSTANTIATE_TEST_SUITE_P(Types, EveryThreadCount,
                         ::testing::Values("f32", "f16", "bf16", "q8_0", "q4_0", "q5_0", "q4_1", "q5_1", "q2_K",
                                           "q3_K_S", "q4_K_S", "q5_K_S", "q6_K"));

TEST(EveryThreadCount, Llama2cCheckpoint) {
    const std::string model = shared_path("models/aidreams260K.bin");
    LLM_REQUIRE_FILE(model);
    expect_same_at_every_thread_count(model, shared_path("models/tok512.bin"));
}

}  // namespace
