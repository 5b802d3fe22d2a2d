// check_weights (llm/weights_check.h): NaN/Inf/absurd values in float tensors and non-finite
// block scales in quantized ones are refused naming the tensor and the place; real weights pass.
// The loaders' use of it: tests/hosted/generate-hostile.test (llama2.c) and the GGUF case below.
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <string>
#include <vector>

#include "jit/kernels/quant.h"
#include "llm/loader.h"
#include "llm/weights_check.h"
#include "test_util.h"

using namespace llmtest;
namespace q = bf::kern::quant;
using bf::llm::check_weights;

TEST(WeightsCheck, FloatTensors) {
    std::vector<float> w(3000, 0.5f);
    std::string err;
    EXPECT_TRUE(check_weights("t", q::F32, w.data(), w.size(), err));
    w[2500] = 1e30f;  // the limit itself passes
    EXPECT_TRUE(check_weights("t", q::F32, w.data(), w.size(), err));
    w[2049] = -1e31f;
    EXPECT_FALSE(check_weights("blk.0.ffn_up.weight", q::F32, w.data(), w.size(), err));
    EXPECT_NE(err.find("model: tensor blk.0.ffn_up.weight: value 2049 is -1e+31"), std::string::npos) << err;
    w[7] = NAN;  // the first bad value is the one named
    EXPECT_FALSE(check_weights("t", q::F32, w.data(), w.size(), err));
    EXPECT_NE(err.find("value 7 is nan"), std::string::npos) << err;

    std::vector<uint16_t> h(100, 0x3c00);  // fp16 1.0
    EXPECT_TRUE(check_weights("h", q::F16, h.data(), h.size(), err));
    h[99] = 0x7c00;  // +inf
    EXPECT_FALSE(check_weights("h", q::F16, h.data(), h.size(), err));
    EXPECT_NE(err.find("tensor h: value 99 is inf"), std::string::npos) << err;
    std::vector<uint16_t> b(100, 0x3f80);  // bf16 1.0
    EXPECT_TRUE(check_weights("b", q::BF16, b.data(), b.size(), err));
    b[3] = 0xffc0;  // NaN
    EXPECT_FALSE(check_weights("b", q::BF16, b.data(), b.size(), err));
    EXPECT_NE(err.find("tensor b: value 3"), std::string::npos) << err;
}

TEST(WeightsCheck, BlockScales) {
    std::vector<q::block_q8_0> q8(10);
    for (auto &blk : q8) blk.d = 0x3c00, memset(blk.qs, 1, sizeof blk.qs);
    std::string err;
    EXPECT_TRUE(check_weights("q", q::Q8_0, q8.data(), q8.size() * q::QK8_0, err));
    q8[4].d = 0x7e00;  // NaN
    EXPECT_FALSE(check_weights("q", q::Q8_0, q8.data(), q8.size() * q::QK8_0, err));
    EXPECT_NE(err.find("model: tensor q: block 4's scale d is nan"), std::string::npos) << err;

    std::vector<q::block_q4_K> q4(3);
    for (auto &blk : q4) blk.d = 0x3c00, blk.dmin = 0x3c00;
    EXPECT_TRUE(check_weights("k", q::Q4_K, q4.data(), q4.size() * q::QK_K, err));
    q4[2].dmin = 0xfc00;  // -inf
    EXPECT_FALSE(check_weights("k", q::Q4_K, q4.data(), q4.size() * q::QK_K, err));
    EXPECT_NE(err.find("tensor k: block 2's scale dmin is inf"), std::string::npos) << err;
}

// The GGUF loader checks every tensor: the real Q4_K_M file loads; with one block scale of its
// first Q8_0/Q4_K... tensor turned into NaN it is refused naming that tensor.
TEST(WeightsCheck, GgufLoaderRefusesNanScale) {
    const std::string path = shared_path("gguf/aidreams260K-Q4_K_M.gguf");
    LLM_REQUIRE_FILE(path);
    bf::llm::LoadedModel m;
    std::string err;
    ASSERT_TRUE(bf::llm::load_model_file(path, m, err)) << err;
    const bf::llm::gguf::Tensor *victim = nullptr;
    for (size_t i = 0; i < m.gguf.n_tensors() && !victim; i++)
        if (m.gguf.tensor(i).type != q::F32 && m.gguf.tensor(i).type != q::F16) victim = &m.gguf.tensor(i);
    ASSERT_NE(victim, nullptr);
    const std::string name(victim->name);
    std::string bytes = read_text(path);
    const size_t d_off = victim->type == q::Q2_K   ? offsetof(q::block_q2_K, d)
                         : victim->type == q::Q3_K ? offsetof(q::block_q3_K, d)
                         : victim->type == q::Q6_K ? offsetof(q::block_q6_K, d)
                                                   : 0;  // d first: Q4_0..Q8_0, Q4_K, Q5_K
    bytes[victim->offset + d_off] = 0x00;
    bytes[victim->offset + d_off + 1] = 0x7e;  // fp16 NaN
    const std::string bad = ::testing::TempDir() + "nan-scale.gguf";
    FILE *f = fopen(bad.c_str(), "wb");
    ASSERT_NE(f, nullptr);
    ASSERT_EQ(fwrite(bytes.data(), 1, bytes.size(), f), bytes.size());
    fclose(f);
    bf::llm::LoadedModel m2;
    EXPECT_FALSE(bf::llm::load_model_file(bad, m2, err));
    EXPECT_NE(err.find("model: tensor " + name + ": block 0's scale d is nan"), std::string::npos) << err;
}
