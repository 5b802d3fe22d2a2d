// Quantized formats: fp16/bf16 conversions at their edges, and reference dequantization of
// blk.0.ffn_up.weight of every syn3M-<type>.gguf compared bit for bit with gguf-py's numpy
// dequantization (../shared/gguf/quant/syn3M-<type>.blk0.ffn_up.f32); the matvec kernels of the
// types added after Q8_0/Q4_0/Q5_0 against a double-precision product of those references.
#include <gtest/gtest.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <filesystem>
#include <string>
#include <vector>

#include "jit/kernels/kernels.h"
#include "jit/kernels/quant.h"
#include "llm/gguf.h"
#include "test_util.h"

#ifndef BF_SHARED_DIR
#define BF_SHARED_DIR "../shared"
#endif

namespace q = bf::kern::quant;

namespace {

uint32_t bits(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}
float from_bits(uint32_t u) {
    float f;
    memcpy(&f, &u, 4);
    return f;
}

}  // namespace

// ---- fp16 / bf16 -------------------------------------------------------------------------------

TEST(Fp16, EveryHalfRoundTrips) {
    // Widening is exact and narrowing it back gives the same bits (NaNs stay NaNs, quiet).
    for (uint32_t h = 0; h < 0x10000; h++) {
        const float f = q::fp16_to_fp32((q::fp16_t)h);
        const bool nan = (h & 0x7c00) == 0x7c00 && (h & 0x3ff);
        if (nan) {
            EXPECT_TRUE(isnan(f)) << h;
            EXPECT_EQ(q::fp32_to_fp16(f), (q::fp16_t)(h | 0x200)) << h;
        } else {
            EXPECT_EQ(q::fp32_to_fp16(f), (q::fp16_t)h) << std::hex << h;
        }
    }
}

TEST(Fp16, KnownValues) {
    EXPECT_EQ(q::fp16_to_fp32(0x3c00), 1.0f);
    EXPECT_EQ(q::fp16_to_fp32(0xc000), -2.0f);
    EXPECT_EQ(q::fp16_to_fp32(0x7bff), 65504.0f);
    EXPECT_EQ(q::fp16_to_fp32(0x0400), 0x1p-14f);              // smallest normal
    EXPECT_EQ(q::fp16_to_fp32(0x0001), 0x1p-24f);              // smallest subnormal
    EXPECT_EQ(q::fp16_to_fp32(0x03ff), 0x3ffp-24f);            // largest subnormal
    EXPECT_EQ(q::fp16_to_fp32(0x8001), -0x1p-24f);
    EXPECT_EQ(bits(q::fp16_to_fp32(0x8000)), 0x80000000u);     // -0
    EXPECT_EQ(q::fp16_to_fp32(0x7c00), INFINITY);
    EXPECT_EQ(q::fp16_to_fp32(0xfc00), -INFINITY);
    EXPECT_TRUE(isnan(q::fp16_to_fp32(0x7e00)));
}

TEST(Fp16, RoundingToNearestEven) {
    // 1 + 2^-11 is halfway between 1 and 1 + 2^-10: ties to even (1); 1 + 3*2^-11 ties up.
    EXPECT_EQ(q::fp32_to_fp16(1.0f + 0x1p-11f), 0x3c00);
    EXPECT_EQ(q::fp32_to_fp16(1.0f + 3 * 0x1p-11f), 0x3c02);
    EXPECT_EQ(q::fp32_to_fp16(1.0f + 0x1p-11f + 0x1p-23f), 0x3c01);  // just above the tie
    EXPECT_EQ(q::fp32_to_fp16(1.0f + 0x1p-11f - 0x1p-23f), 0x3c00);  // just below
    // Overflow: 65519.99 rounds to 65504, 65520 (the tie, odd mantissa) to inf.
    EXPECT_EQ(q::fp32_to_fp16(65519.0f), 0x7bff);
    EXPECT_EQ(q::fp32_to_fp16(65520.0f), 0x7c00);
    EXPECT_EQ(q::fp32_to_fp16(-1e10f), 0xfc00);
    EXPECT_EQ(q::fp32_to_fp16(INFINITY), 0x7c00);
    // Subnormals: ties to even in units of 2^-24.
    EXPECT_EQ(q::fp32_to_fp16(0x1p-25f), 0x0000);          // half of the smallest: to 0
    EXPECT_EQ(q::fp32_to_fp16(0x1p-25f + 0x1p-40f), 0x0001);
    EXPECT_EQ(q::fp32_to_fp16(3 * 0x1p-25f), 0x0002);      // 1.5 units: to 2
    EXPECT_EQ(q::fp32_to_fp16(5 * 0x1p-25f), 0x0002);      // 2.5 units: to 2
    EXPECT_EQ(q::fp32_to_fp16(-3 * 0x1p-25f), 0x8002);
    EXPECT_EQ(q::fp32_to_fp16(0x1p-30f), 0x0000);
    EXPECT_EQ(q::fp32_to_fp16(-0x1p-30f), 0x8000);
    EXPECT_EQ(q::fp32_to_fp16(0x3ffp-24f + 0x1p-25f), 0x0400);  // rounds up into the normals
    EXPECT_EQ(q::fp32_to_fp16(from_bits(0x00000001)), 0x0000);  // fp32 subnormal
    EXPECT_EQ(q::fp32_to_fp16(0.0f), 0x0000);
    EXPECT_EQ(q::fp32_to_fp16(-0.0f), 0x8000);
    // NaN stays NaN (quiet), sign kept.
    const q::fp16_t n = q::fp32_to_fp16(from_bits(0xff800001));
    EXPECT_EQ(n & 0x7c00, 0x7c00);
    EXPECT_NE(n & 0x3ff, 0);
    EXPECT_EQ(n & 0x8000, 0x8000);
}

TEST(Fp16, NarrowingMatchesDoubleRounding) {
    // Against a direct computation: the nearest half to f (ties to the even one), over a sweep of
    // fp32 bit patterns covering normals, subnormals and the overflow edge.
    for (uint32_t u = 0x2f000000; u < 0x47800000; u += 0x1357) {
        const float f = from_bits(u);
        const q::fp16_t h = q::fp32_to_fp16(f);
        const double v = q::fp16_to_fp32(h);
        const double up = q::fp16_to_fp32((q::fp16_t)(h + 1)), down = h ? q::fp16_to_fp32((q::fp16_t)(h - 1)) : 0.0;
        if (h == 0x7c00) {
            ASSERT_GE(f, 65520.0f);
            continue;
        }
        const double err = fabs((double)f - v);
        ASSERT_LE(err, fabs((double)f - up)) << std::hex << u;
        ASSERT_LE(err, fabs((double)f - down)) << std::hex << u;
        if (err == fabs((double)f - up) || (h && err == fabs((double)f - down))) {
            ASSERT_EQ(h & 1, 0) << std::hex << u;  // a tie went to the even one
        }
    }
}

TEST(Bf16, ConversionsAndRounding) {
    EXPECT_EQ(q::bf16_to_fp32(0x3f80), 1.0f);
    EXPECT_EQ(q::bf16_to_fp32(0xc040), -3.0f);
    EXPECT_EQ(q::fp32_to_bf16(1.0f), 0x3f80);
    EXPECT_EQ(q::fp32_to_bf16(from_bits(0x3f808000)), 0x3f80);  // tie, even stays
    EXPECT_EQ(q::fp32_to_bf16(from_bits(0x3f818000)), 0x3f82);  // tie, odd rounds up
    EXPECT_EQ(q::fp32_to_bf16(from_bits(0x3f808001)), 0x3f81);
    EXPECT_EQ(q::fp32_to_bf16(from_bits(0x7f7fffff)), 0x7f80);  // max float rounds to inf
    EXPECT_EQ(q::fp32_to_bf16(from_bits(0x7f800001)) & 0x7fc0, 0x7fc0);  // quiet NaN
    for (uint32_t h = 0; h < 0x10000; h++) {
        const bool nan = (h & 0x7f80) == 0x7f80 && (h & 0x7f);
        if (!nan) {
            EXPECT_EQ(q::fp32_to_bf16(q::bf16_to_fp32((q::bf16_t)h)), h);
        }
    }
}

// ---- blocks ------------------------------------------------------------------------------------

TEST(Quant, BlockSizes) {
    EXPECT_EQ(q::block_size(q::Q4_0), 32);
    EXPECT_EQ(q::block_bytes(q::Q4_0), 18);
    EXPECT_EQ(q::block_size(q::Q6_K), 256);
    EXPECT_EQ(q::block_bytes(q::Q6_K), 210);
    EXPECT_EQ(q::block_bytes(q::BF16), 2);
    EXPECT_EQ(q::block_size(15), 0);  // q8_K: not a weight type here
    // Agrees with the GGUF reader's table.
    for (uint32_t t = 0; t < 64; t++) {
        const bf::llm::gguf::TypeTraits *tt = bf::llm::gguf::type_traits(t);
        EXPECT_EQ(q::block_size(t), tt ? (int)tt->block_size : 0) << t;
        EXPECT_EQ(q::block_bytes(t), tt ? (int)tt->block_bytes : 0) << t;
    }
}

TEST(Quant, DispatchRefusesBadInput) {
    float out[64] = {};
    uint8_t in[256] = {};
    EXPECT_FALSE(q::dequantize_row(q::Q4_0, in, out, 48));
    EXPECT_FALSE(q::dequantize_row(q::Q4_0, in, out, -32));
    EXPECT_FALSE(q::dequantize_row(15, in, out, 32));
    EXPECT_TRUE(q::dequantize_row(q::Q4_0, in, out, 64));
}

TEST(Quant, HandMadeBlocks) {
    // Q8_0: d = 0.5, values -128..
    q::block_q8_0 b8{};
    b8.d = q::fp32_to_fp16(0.5f);
    for (int j = 0; j < 32; j++) b8.qs[j] = (int8_t)(j * 8 - 128);
    float out[256];
    ASSERT_TRUE(q::dequantize_row(q::Q8_0, &b8, out, 32));
    for (int j = 0; j < 32; j++) EXPECT_EQ(out[j], (j * 8 - 128) * 0.5f);
    // Q4_0: low nibbles are values 0-15, high nibbles 16-31.
    q::block_q4_0 b4{};
    b4.d = q::fp32_to_fp16(2.0f);
    for (int j = 0; j < 16; j++) b4.qs[j] = (uint8_t)(j | ((15 - j) << 4));
    ASSERT_TRUE(q::dequantize_row(q::Q4_0, &b4, out, 32));
    for (int j = 0; j < 16; j++) {
        EXPECT_EQ(out[j], (j - 8) * 2.0f);
        EXPECT_EQ(out[j + 16], (7 - j) * 2.0f);
    }
    // Q5_0: bit j of qh is bit 4 of value j.
    q::block_q5_0 b5{};
    b5.d = q::fp32_to_fp16(1.0f);
    const uint32_t qh = 0x80000001u;
    memcpy(b5.qh, &qh, 4);
    ASSERT_TRUE(q::dequantize_row(q::Q5_0, &b5, out, 32));
    EXPECT_EQ(out[0], 0.0f);     // 16 - 16
    EXPECT_EQ(out[1], -16.0f);
    EXPECT_EQ(out[31], 0.0f);
}

// ---- Q8_0 activations and dot product ---------------------------------------------------------

namespace {
struct Lcg {
    uint64_t s;
    float next() {  // uniform in [-1, 1)
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        return (float)((s >> 40) & 0xffffff) / 8388608.0f - 1.0f;
    }
};
}  // namespace

TEST(QuantQ8_0, QuantizeRoundsToNearestEven) {
    // amax = 127: id = 1, so the values themselves are rounded.
    float x[32] = {};
    x[0] = 127.0f;
    x[1] = 2.5f;
    x[2] = 3.5f;
    x[3] = -2.5f;
    x[4] = -3.5f;
    x[5] = 0.5f;
    x[6] = 1.5f;
    x[7] = -0.5f;
    x[8] = 2.5001f;
    x[9] = -126.5f;
    q::block_q8_0 b;
    q::quantize_row_q8_0(x, &b, 32);
    EXPECT_EQ(q::fp16_to_fp32(b.d), 1.0f);
    const int want[] = {127, 2, 4, -2, -4, 0, 2, 0, 3, -126};
    for (int j = 0; j < 10; j++) EXPECT_EQ(b.qs[j], want[j]) << j;
    // An all-zero block.
    float z[32] = {};
    q::quantize_row_q8_0(z, &b, 32);
    EXPECT_EQ(b.d, 0);
    for (int j = 0; j < 32; j++) EXPECT_EQ(b.qs[j], 0);
}

TEST(QuantQ8_0, QuantizeAgainstDouble) {
    Lcg rng{42};
    std::vector<float> x(32 * 64);
    for (size_t i = 0; i < x.size(); i++) x[i] = rng.next() * (float)(1 + i / 32);  // growing scales
    std::vector<q::block_q8_0> y(64);
    q::quantize_row_q8_0(x.data(), y.data(), (int64_t)x.size());
    for (int b = 0; b < 64; b++) {
        double amax = 0;
        for (int j = 0; j < 32; j++) amax = fmax(amax, fabs((double)x[b * 32 + j]));
        EXPECT_EQ(y[b].d, q::fp32_to_fp16((float)amax / 127.0f));
        for (int j = 0; j < 32; j++) {
            const double exact = x[b * 32 + j] * 127.0 / amax;
            EXPECT_LE(fabs(y[b].qs[j] - exact), 0.5 + 1e-4) << b << " " << j;
            EXPECT_LE(abs(y[b].qs[j]), 127);
        }
    }
}

TEST(QuantQ8_0, VecDotAgainstDouble) {
    Lcg rng{7};
    const int n = 32 * 96;
    std::vector<float> a(n), w(n);
    for (int i = 0; i < n; i++) {
        a[i] = rng.next() * 3.0f;
        w[i] = rng.next() * 0.05f;
    }
    std::vector<q::block_q8_0> qa(n / 32), qw(n / 32);
    q::quantize_row_q8_0(a.data(), qa.data(), n);
    q::quantize_row_q8_0(w.data(), qw.data(), n);
    // The exact dot product of the quantized values, in double.
    double exact = 0, mag = 0;
    for (int b = 0; b < n / 32; b++)
        for (int j = 0; j < 32; j++) {
            const double p = (double)qa[b].qs[j] * q::fp16_to_fp32(qa[b].d) * (double)qw[b].qs[j] *
                             q::fp16_to_fp32(qw[b].d);
            exact += p;
            mag += fabs(p);
        }
    const float got = q::vec_dot_q8_0_q8_0(qa.data(), qw.data(), n);
    EXPECT_LE(fabs(got - exact), 1e-6 * mag) << got << " vs " << exact;
    // And the quantization error against the fp32 vectors stays small.
    double ref = 0;
    for (int i = 0; i < n; i++) ref += (double)a[i] * w[i];
    EXPECT_LE(fabs(got - ref), 0.01 * mag) << got << " vs " << ref;
    // Bit-exact against the same float order spelled out here.
    float sum = 0;
    for (int b = 0; b < n / 32; b++) {
        int sumi = 0;
        for (int j = 0; j < 32; j++) sumi += qa[b].qs[j] * qw[b].qs[j];
        sum += (float)sumi * (q::fp16_to_fp32(qa[b].d) * q::fp16_to_fp32(qw[b].d));
    }
    EXPECT_EQ(got, sum);
}

// ---- the shared references ---------------------------------------------------------------------

TEST(QuantShared, DequantizeMatchesGgufPyBitwise) {
    if (!std::filesystem::is_directory(std::string(BF_SHARED_DIR) + "/gguf/quant"))
        GTEST_SKIP() << "no shared test data at " << BF_SHARED_DIR;
    const char *types[] = {"f16", "bf16", "q8_0", "q4_0", "q4_1", "q5_0", "q5_1",
                           "q2_K", "q3_K_S", "q4_K_S", "q5_K_S", "q6_K"};
    for (const char *type : types) {
        SCOPED_TRACE(type);
        const std::string base = std::string(BF_SHARED_DIR) + "/gguf/quant/syn3M-" + type;
        const std::vector<uint8_t> img = llmtest::read_bytes(base + ".gguf");
        const std::vector<uint8_t> ref_bytes = llmtest::read_bytes(base + ".blk0.ffn_up.f32");
        bf::llm::gguf::File f;
        std::string err;
        ASSERT_TRUE(f.parse(img.data(), img.size(), err)) << err;
        const bf::llm::gguf::Tensor *t = f.find_tensor("blk.0.ffn_up.weight");
        ASSERT_NE(t, nullptr);
        ASSERT_EQ(t->ne[0], 256);
        ASSERT_EQ(t->ne[1], 768);
        ASSERT_EQ(ref_bytes.size(), 768u * 256u * 4u);
        std::vector<float> ref(768 * 256), got(768 * 256);
        memcpy(ref.data(), ref_bytes.data(), ref_bytes.size());
        for (int64_t r = 0; r < t->n_rows(); r++)
            ASSERT_TRUE(q::dequantize_row(t->type, t->data + r * t->row_bytes, got.data() + r * 256, 256));
        float max_abs = 0;
        for (float v : ref) max_abs = fmaxf(max_abs, fabsf(v));
        EXPECT_GT(max_abs, 0.04f);  // the weights are uniform in +-0.05: a real comparison
        size_t mismatches = 0;
        double max_diff = 0;
        for (size_t i = 0; i < ref.size(); i++) {
            if (bits(ref[i]) != bits(got[i])) {
                mismatches++;
                max_diff = fmax(max_diff, fabs((double)ref[i] - (double)got[i]));
            }
        }
        EXPECT_EQ(mismatches, 0u) << "max |difference| " << max_diff;
    }
}

// The matvec kernels against an independent computation: row i of the shared reference
// dequantization (gguf-py's numpy code) dotted in double precision with the activation as the
// kernel sees it (quantized the same way, dequantized here). What is left is fp32 rounding, and
// for Q4_1/Q5_1 the fp16 rounding of Q8_1's s = d * sum(q) (computed with the unrounded d):
// within 1e-3 of the output's largest magnitude.
TEST(QuantShared, MatvecMatchesDoubleProductOfTheReference) {
    if (!std::filesystem::is_directory(std::string(BF_SHARED_DIR) + "/gguf/quant"))
        GTEST_SKIP() << "no shared test data at " << BF_SHARED_DIR;
    using MV = void (*)(float *, const void *, const void *, int, int);
    enum Act { Q8_1, Q8_K, BF16 };
    const struct { const char *file; uint32_t type; MV mv; Act act; } cases[] = {
        {"q4_1", q::Q4_1, bf::kern::matvec_q4_1, Q8_1},   {"q5_1", q::Q5_1, bf::kern::matvec_q5_1, Q8_1},
        {"q2_K", q::Q2_K, bf::kern::matvec_q2_k, Q8_K},   {"q3_K_S", q::Q3_K, bf::kern::matvec_q3_k, Q8_K},
        {"q4_K_S", q::Q4_K, bf::kern::matvec_q4_k, Q8_K}, {"q5_K_S", q::Q5_K, bf::kern::matvec_q5_k, Q8_K},
        {"q6_K", q::Q6_K, bf::kern::matvec_q6_k, Q8_K},   {"bf16", q::BF16, bf::kern::matvec_bf16, BF16},
    };
    constexpr int n = 256, rows = 768;
    // A fixed activation vector: a xorshift stream mapped to [-1, 1).
    std::vector<float> x(n);
    uint32_t st = 2463534242u;
    for (float &v : x) {
        st ^= st << 13, st ^= st >> 17, st ^= st << 5;
        v = float(st >> 8) * 0x1p-23f - 1.0f;
    }
    for (const auto &c : cases) {
        SCOPED_TRACE(c.file);
        const std::string base = std::string(BF_SHARED_DIR) + "/gguf/quant/syn3M-" + c.file;
        const std::vector<uint8_t> img = llmtest::read_bytes(base + ".gguf");
        const std::vector<uint8_t> ref_bytes = llmtest::read_bytes(base + ".blk0.ffn_up.f32");
        bf::llm::gguf::File f;
        std::string err;
        ASSERT_TRUE(f.parse(img.data(), img.size(), err)) << err;
        const bf::llm::gguf::Tensor *t = f.find_tensor("blk.0.ffn_up.weight");
        ASSERT_NE(t, nullptr);
        ASSERT_EQ(t->type, c.type);
        ASSERT_EQ(ref_bytes.size(), size_t(rows) * n * 4);
        std::vector<float> w(size_t(rows) * n);
        memcpy(w.data(), ref_bytes.data(), ref_bytes.size());

        // The activation as the kernel sees it, and its values.
        std::vector<uint8_t> xq(size_t(n) * 2);
        std::vector<double> xv(n);
        if (c.act == Q8_1) {
            bf::kern::ref::quantize_q8_1(xq.data(), x.data(), n);
            for (int b = 0; b < n / 32; b++) {
                q::block_q8_1 blk;
                memcpy(&blk, xq.data() + b * sizeof blk, sizeof blk);
                for (int j = 0; j < 32; j++) xv[b * 32 + j] = double(blk.qs[j]) * q::fp16_to_fp32(blk.d);
            }
        } else if (c.act == Q8_K) {
            bf::kern::ref::quantize_q8_k(xq.data(), x.data(), n);
            q::block_q8_K blk;
            memcpy(&blk, xq.data(), sizeof blk);
            for (int j = 0; j < n; j++) xv[j] = double(blk.qs[j]) * double(blk.d);
        } else {
            bf::kern::ref::to_bf16(xq.data(), x.data(), n);
            for (int j = 0; j < n; j++) {
                q::bf16_t h;
                memcpy(&h, xq.data() + 2 * j, 2);
                xv[j] = q::bf16_to_fp32(h);
            }
        }
        std::vector<float> got(rows);
        c.mv(got.data(), xq.data(), t->data, n, rows);
        std::vector<double> want(rows);
        double scale = 0, max_err = 0;
        for (int i = 0; i < rows; i++) {
            double s = 0;
            for (int j = 0; j < n; j++) s += double(w[size_t(i) * n + j]) * xv[j];
            want[i] = s;
            scale = fmax(scale, fabs(s));
        }
        for (int i = 0; i < rows; i++) max_err = fmax(max_err, fabs(double(got[i]) - want[i]));
        EXPECT_GT(scale, 0.1);  // a real comparison: 256 products of ~0.03 * ~0.5
        EXPECT_LE(max_err, 1e-3 * scale);
        printf("[ matvec  ] %-7s max |error| %.3g of output scale %.3g (%.2e relative)\n", c.file, max_err, scale,
               max_err / scale);
    }
}
