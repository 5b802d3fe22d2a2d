// forward_batch (the prompt path: one sgemm per weight matrix for up to kBatch positions) against
// forward() one position at a time: the same logits up to summation order, the same KV cache
// (positions after a batch continue identically), and the same guards.
#include <math.h>

#include <cstdio>
#include <cstring>

#include "jit/dispatch.h"
#include "jit/kernels/quant.h"
#include "llm/generate.h"
#include "llm/loader.h"
#include "llm/model.h"
#include "test_util.h"

using namespace llmtest;
using bf::llm::Model;
using bf::llm::RunState;

namespace {

const std::string kModel = shared_path("models/aidreams260K.bin");

// Relative to the logit's magnitude (at least 1): sgemm and matvec sum in different orders.
void expect_close(const float *got, const float *want, int n, const char *what, int pos) {
    for (int i = 0; i < n; i++)
        ASSERT_NEAR(got[i], want[i], 1e-4 * fmax(1.0, fabs(want[i]))) << what << " pos " << pos << " logit " << i;
}

// Logits of positions 0..n-1 computed one at a time (the reference for the batched pass).
std::vector<std::vector<float>> one_at_a_time(const Model &m, const std::vector<int> &tok, int n) {
    RunState one;
    std::string err;
    std::vector<std::vector<float>> want;
    EXPECT_TRUE(one.init(m.config, err)) << err;
    for (int pos = 0; pos < n; pos++) {
        const float *l = bf::llm::forward(m, one, tok[size_t(pos)], pos);
        EXPECT_NE(l, nullptr);
        if (!l) break;
        want.emplace_back(l, l + m.config.vocab_size);
    }
    return want;
}

std::vector<int> test_tokens(int n) {
    std::vector<int> t(static_cast<size_t>(n));
    t[0] = 1;
    for (int i = 1; i < n; i++) t[size_t(i)] = (i * 37 + 5) % 511 + 1;
    return t;
}

}  // namespace

TEST(ForwardBatch, MatchesOnePositionAtATime) {
    LLM_REQUIRE_FILE(kModel);
    Image im = read_image(kModel);
    Model m;
    std::string err;
    ASSERT_TRUE(bf::llm::load_model(im.data(), im.size, m, err)) << err;
    const int V = m.config.vocab_size;
    const int n = RunState::kBatch + 13;  // a full batch, then a partial one
    const std::vector<int> tok = test_tokens(n + 3);

    RunState bat, last;
    ASSERT_TRUE(bat.init(m.config, err)) << err;
    ASSERT_TRUE(last.init(m.config, err)) << err;
    const std::vector<std::vector<float>> want = one_at_a_time(m, tok, n + 3);
    ASSERT_EQ(want.size(), size_t(n + 3));
    for (int pos0 = 0; pos0 < n; pos0 += RunState::kBatch) {
        const int b = n - pos0 < RunState::kBatch ? n - pos0 : RunState::kBatch;
        ASSERT_TRUE(bf::llm::forward_batch(m, bat, tok.data() + pos0, b, pos0, true));
        for (int i = 0; i < b; i++)
            expect_close(bat.blogits + size_t(i) * V, want[size_t(pos0 + i)].data(), V, "all_logits", pos0 + i);
        ASSERT_TRUE(bf::llm::forward_batch(m, last, tok.data() + pos0, b, pos0, false));
        expect_close(last.logits, want[size_t(pos0 + b - 1)].data(), V, "last row", pos0 + b - 1);
    }
    // The batches filled the KV cache: single positions after them see the same history.
    for (int pos = n; pos < n + 3; pos++) {
        const float *l = bf::llm::forward(m, bat, tok[size_t(pos)], pos);
        ASSERT_NE(l, nullptr);
        expect_close(l, want[size_t(pos)].data(), V, "after the batches", pos);
    }
}

TEST(ForwardBatch, Guards) {
    LLM_REQUIRE_FILE(kModel);
    Image im = read_image(kModel);
    Model m;
    std::string err;
    ASSERT_TRUE(bf::llm::load_model(im.data(), im.size, m, err)) << err;
    const std::vector<int> tok = test_tokens(RunState::kBatch + 1);
    RunState s;
    EXPECT_FALSE(bf::llm::forward_batch(m, s, tok.data(), 4, 0, false));  // not initialized
    ASSERT_TRUE(s.init(m.config, err)) << err;
    EXPECT_FALSE(bf::llm::forward_batch(m, s, tok.data(), 0, 0, false));
    EXPECT_FALSE(bf::llm::forward_batch(m, s, tok.data(), RunState::kBatch + 1, 0, false));
    EXPECT_FALSE(bf::llm::forward_batch(m, s, tok.data(), 4, -1, false));
    EXPECT_FALSE(bf::llm::forward_batch(m, s, tok.data(), 4, m.config.seq_len - 3, false));
    EXPECT_TRUE(bf::llm::forward_batch(m, s, tok.data(), 4, m.config.seq_len - 4, false));
    const int bad[3] = {1, m.config.vocab_size, 2};
    EXPECT_FALSE(bf::llm::forward_batch(m, s, bad, 3, 0, false));
    const int negative[2] = {1, -1};
    EXPECT_FALSE(bf::llm::forward_batch(m, s, negative, 2, 0, false));
}

// The GGUF files of every weight type (../shared/gguf/quant/syn3M-<type>.gguf, made by llama.cpp's
// tools): the batched forward pass (matmat kernels, one activation conversion shared by the
// matrices that read it) against one position at a time (matvec), logits to rounding; and
// greedy generation with the fast kernels against the reference kernels (jit/dispatch.h:
// use_reference_kernels): the same tokens.
class QuantizedModels : public ::testing::TestWithParam<const char *> {};

TEST_P(QuantizedModels, BatchMatchesOnePositionAndFastMatchesReference) {
    const std::string path = shared_path((std::string("gguf/quant/syn3M-") + GetParam() + ".gguf").c_str());
    LLM_REQUIRE_FILE(path);
    bf::llm::LoadedModel lm;
    std::string err;
    bf::llm::LoadOptions opt;
    opt.ctx = 64;
    ASSERT_TRUE(bf::llm::load(path, "", lm, err, opt)) << err;
    const Model &m = lm.model;
    const int V = m.config.vocab_size, n = 40;
    std::vector<int> tok(static_cast<size_t>(n), 0);
    for (int i = 0; i < n; i++) tok[size_t(i)] = (i * 37 + 5) % (V - 1) + 1;
    RunState bat;
    ASSERT_TRUE(bat.init(m.config, err)) << err;
    const std::vector<std::vector<float>> want = one_at_a_time(m, tok, n);
    ASSERT_EQ(want.size(), size_t(n));
    for (int pos0 = 0; pos0 < n; pos0 += RunState::kBatch) {
        const int b = n - pos0 < RunState::kBatch ? n - pos0 : RunState::kBatch;
        ASSERT_TRUE(bf::llm::forward_batch(m, bat, tok.data() + pos0, b, pos0, true));
        // Most types compute a batched position exactly as a single one; where the kernels'
        // summation orders differ (F16/BF16 matmat, Q4_0's matvec), a rounding step can flip an
        // activation's Q8 rounding, which moves logits by more than the fp32 rounding: compared
        // to the scale of the position's logits then.
        for (int i = 0; i < b; i++) {
            const std::vector<float> &w = want[size_t(pos0 + i)];
            float scale = 0.0f;
            for (float v : w) scale = fmaxf(scale, fabsf(v));
            const float *got = bat.blogits + size_t(i) * V;
            for (int k = 0; k < V; k++)
                ASSERT_NEAR(got[k], w[size_t(k)], 2e-3 * fmax(1.0, scale)) << GetParam() << " pos " << pos0 + i << " logit " << k;
        }
    }
    auto greedy = [&](bool reference) {
        bf::jit::use_reference_kernels(reference);
        bf::llm::Sampler sampler(V, 0.0f, 0.9f, 1);
        std::string text;
        EXPECT_TRUE(bf::llm::generate(m, lm.codec(), sampler, "Once upon a time", 48, text, err)) << err;
        bf::jit::use_reference_kernels(false);
        return text;
    };
    const std::string fast = greedy(false), ref = greedy(true);
    EXPECT_FALSE(fast.empty());
    EXPECT_EQ(fast, ref);
}

INSTANTIATE_TEST_SUITE_P(EveryType, QuantizedModels,
                         ::testing::Values("f32", "f16", "bf16", "q8_0", "q4_0", "q5_0", "q4_1", "q5_1", "q2_K",
                                           "q3_K_S", "q4_K_S", "q5_K_S", "q6_K"));

// The loader regroups Q4_0 matrices whose rows are whole 256-value groups (quant.h
// block_q4_0x8; syn3M: dim 256, hidden 768, so all of them): every matrix is retyped, the
// bytes are the file's values rearranged (the embedding lookup dequantizes the same rows),
// and the GGUF metadata still names the stored type.
TEST(QuantizedModels, LoaderRegroupsQ4_0) {
    namespace Q = bf::kern::quant;
    const std::string path = shared_path("gguf/quant/syn3M-q4_0.gguf");
    LLM_REQUIRE_FILE(path);
    bf::llm::LoadedModel lm;
    std::string err;
    bf::llm::LoadOptions opt;
    opt.ctx = 16;
    ASSERT_TRUE(bf::llm::load(path, "", lm, err, opt)) << err;
    const bf::llm::Weights &w = lm.model.weights;
    for (const bf::llm::Layer &y : w.layers)
        for (const bf::llm::Matrix *x : {&y.wq, &y.wk, &y.wv, &y.wo, &y.w1, &y.w2, &y.w3}) EXPECT_EQ(x->type, Q::Q4_0_X8);
    ASSERT_EQ(w.token_embedding.type, Q::Q4_0_X8);
    EXPECT_EQ(lm.gguf.find_tensor("token_embd.weight")->type, uint32_t(Q::Q4_0));
    // The file's own bytes, read again: row r dequantizes to the same values both ways.
    std::FILE *f = std::fopen(path.c_str(), "rb");
    ASSERT_NE(f, nullptr);
    std::vector<unsigned char> file(lm.file.size());
    ASSERT_EQ(std::fread(file.data(), 1, file.size(), f), file.size());
    std::fclose(f);
    const size_t off = static_cast<const unsigned char *>(w.token_embedding.data) - lm.file.data();
    const int dim = lm.model.config.dim;
    std::vector<float> a(static_cast<size_t>(dim)), b(static_cast<size_t>(dim));
    for (int r : {0, 7, lm.model.config.vocab_size - 1}) {
        const size_t at = off + size_t(r) * w.token_embedding.row_bytes;
        ASSERT_TRUE(Q::dequantize_row(Q::Q4_0, file.data() + at, a.data(), dim));
        ASSERT_TRUE(Q::dequantize_row(Q::Q4_0_X8, lm.file.data() + at, b.data(), dim));
        EXPECT_EQ(a, b) << "row " << r;
        EXPECT_NE(0, std::memcmp(file.data() + at, lm.file.data() + at, w.token_embedding.row_bytes));
    }
}
