// The registry's quantized-weight kernels (qmatvec.cpp) against their reference twins
// (quant_ref.cpp, quant_ref_dot.cpp): activation quantization (Q8_0, Q8_1, Q8_K, bf16) bit for
// bit, the integer block dot products to rounding, fp16 conversions for every value.
#include "jit/kernels/kernels.h"
#include "jit/kernels/quant.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstddef>
#include <cstring>
#include <random>
#include <vector>

namespace {

#if BF_TEST_NEEDS_X86_V3
// This binary's kernels use AVX2/FMA/F16C (the JIT's avx2 flavour): skip on a CPU without them.
struct NeedsX86V3 : ::testing::Environment {
    void SetUp() override {
        if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma") || !__builtin_cpu_supports("f16c"))
            GTEST_SKIP() << "the CPU lacks AVX2/FMA/F16C";
#if BF_TEST_NEEDS_AVX512VNNI
        // ... and the avx512vnni flavour AVX512-F/BW/VL/VNNI.
        if (!__builtin_cpu_supports("avx512f") || !__builtin_cpu_supports("avx512bw") ||
            !__builtin_cpu_supports("avx512vl") || !__builtin_cpu_supports("avx512vnni"))
            GTEST_SKIP() << "the CPU lacks AVX512-F/BW/VL/VNNI";
#endif
    }
};
[[maybe_unused]] const auto *const kNeedsX86V3 = ::testing::AddGlobalTestEnvironment(new NeedsX86V3);
#endif

namespace Q = bf::kern::quant;
namespace K = bf::kern;

std::vector<float> rnd(size_t n, unsigned seed, float scale = 1.0f) {
    std::mt19937 g(seed);
    std::uniform_real_distribution<float> d(-scale, scale);
    std::vector<float> v(n);
    for (auto &x : v) x = d(g);
    return v;
}

// Random blocks of a type with sane fp16 scales (every type here starts with its scale d).
std::vector<unsigned char> blocks(uint32_t type, int rows, int cols, unsigned seed) {
    const size_t nb = size_t(rows) * size_t(cols) / size_t(Q::block_size(type)), bb = size_t(Q::block_bytes(type));
    std::vector<unsigned char> b(nb * bb);
    std::mt19937 g(seed);
    for (auto &c : b) c = static_cast<unsigned char>(g());
    // Offsets of the fp16 scale (d) and min scale (m / dmin) fields; -1: none.
    int od = 0, om = -1;
    switch (type) {
    case Q::Q4_1: case Q::Q5_1: case Q::Q4_K: case Q::Q5_K: om = 2; break;
    case Q::Q2_K: od = offsetof(Q::block_q2_K, d), om = offsetof(Q::block_q2_K, dmin); break;
    case Q::Q3_K: od = offsetof(Q::block_q3_K, d); break;
    case Q::Q6_K: od = offsetof(Q::block_q6_K, d); break;
    default: break;
    }
    for (size_t i = 0; i < nb; i++)
        for (int off : {od, om}) {
            if (off < 0) continue;
            const Q::fp16_t d = Q::fp32_to_fp16(0.001f + float(g() % 1000) * 1e-5f);
            std::memcpy(&b[i * bb + size_t(off)], &d, 2);
        }
    for (size_t i = 0; type == Q::Q4_0_X8 && i < nb; i++)  // a group's other 7 scales
        for (int k = 1; k < 8; k++) {
            const Q::fp16_t d = Q::fp32_to_fp16(0.001f + float(g() % 1000) * 1e-5f);
            std::memcpy(&b[i * bb + size_t(2 * k)], &d, 2);
        }
    return b;
}

void expect_close(const std::vector<float> &got, const std::vector<float> &want, float scale) {
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < got.size(); i++)
        EXPECT_NEAR(got[i], want[i], 1e-4f * std::fabs(want[i]) + 1e-5f * scale) << "at " << i;
}

}  // namespace

TEST(QuantKernels, QuantizeQ8_0IsBitExact) {
    for (int n : {32, 288, 2048}) {
        auto x = rnd(size_t(n), 1, 3.0f);
        x[5] = 0.0f;
        std::vector<unsigned char> want(size_t(n / 32) * 34), got(want.size());
        K::ref::quantize_q8_0(want.data(), x.data(), n);
        K::quantize_q8_0(got.data(), x.data(), n);
        EXPECT_EQ(got, want) << n;
    }
    std::vector<float> zeros(64, 0.0f);  // an all-zero block: d = 0, q = 0
    std::vector<unsigned char> want(68), got(68);
    K::ref::quantize_q8_0(want.data(), zeros.data(), 64);
    K::quantize_q8_0(got.data(), zeros.data(), 64);
    EXPECT_EQ(got, want);
}

TEST(QuantKernels, MatvecsMatchTheReference) {
    using MV = void (*)(float *, const void *, const void *, int, int);
    const struct { uint32_t type; MV fast, ref; } cases[] = {{Q::Q8_0, K::matvec_q8_0, K::ref::matvec_q8_0},
                                                            {Q::Q4_0, K::matvec_q4_0, K::ref::matvec_q4_0},
                                                            {Q::Q5_0, K::matvec_q5_0, K::ref::matvec_q5_0}};
    for (auto [n, d] : {std::pair{32, 1}, std::pair{288, 96}, std::pair{768, 33}}) {
        auto x = rnd(size_t(n), 2);
        std::vector<unsigned char> xq(size_t(n / 32) * 34);
        K::ref::quantize_q8_0(xq.data(), x.data(), n);
        for (const auto &c : cases) {
            auto w = blocks(c.type, d, n, 3 + c.type);
            std::vector<float> want(static_cast<size_t>(d)), got(static_cast<size_t>(d));
            c.ref(want.data(), xq.data(), w.data(), n, d);
            c.fast(got.data(), xq.data(), w.data(), n, d);
            expect_close(got, want, std::sqrt(float(n)));
        }
    }
}

TEST(QuantKernels, Fp16ConversionsAgreeForEveryValue) {
    // h2f through matvec_f16 with n = 1 and x = 1.0: out[i] is exactly row i's value (up to the
    // sign of zero: the sum starts at +0).
    std::vector<Q::fp16_t> all(65536);
    for (uint32_t h = 0; h < 65536; h++) all[h] = Q::fp16_t(h);
    const Q::fp16_t one = Q::fp32_to_fp16(1.0f);
    std::vector<float> out(65536);
    K::matvec_f16(out.data(), &one, all.data(), 1, 65536);
    for (uint32_t h = 0; h < 65536; h++) {
        const float want = Q::fp16_to_fp32(Q::fp16_t(h));
        if (std::isnan(want)) {
            EXPECT_TRUE(std::isnan(out[h])) << h;
        } else {
            EXPECT_EQ(out[h], want) << h;
        }
    }
    // f2h: every fp16 value and the midpoints around it round as the reference does.
    std::vector<float> xs;
    for (uint32_t h = 0; h < 65536; h++) {
        const float f = Q::fp16_to_fp32(Q::fp16_t(h));
        if (std::isnan(f)) continue;
        xs.push_back(f);
        xs.push_back(std::nextafter(f, INFINITY));
        xs.push_back(std::nextafter(f, -INFINITY));
    }
    auto r = rnd(100000, 4, 70000.0f);
    xs.insert(xs.end(), r.begin(), r.end());
    std::vector<Q::fp16_t> want(xs.size()), got(xs.size());
    K::ref::to_f16(want.data(), xs.data(), int(xs.size()));
    K::to_f16(got.data(), xs.data(), int(xs.size()));
    EXPECT_EQ(got, want);
}

TEST(QuantKernels, AttentionOverFp16CacheMatchesTheReference) {
    for (auto [nh, nkv, hs, pos] : {std::tuple{6, 2, 48, 20}, std::tuple{8, 4, 32, 0}, std::tuple{4, 4, 64, 100}}) {
        const int kv = nkv * hs;
        auto q = rnd(size_t(nh) * hs, 5), kf = rnd(size_t(pos + 1) * kv, 6), vf = rnd(size_t(pos + 1) * kv, 7);
        std::vector<Q::fp16_t> kc(kf.size()), vc(vf.size());
        K::ref::to_f16(kc.data(), kf.data(), int(kf.size()));
        K::ref::to_f16(vc.data(), vf.data(), int(vf.size()));
        std::vector<float> want(size_t(nh) * hs), got(want.size()), att(size_t(nh) * (pos + 1));
        K::ref::attention_f16(want.data(), att.data(), q.data(), kc.data(), vc.data(), pos, nh, nkv, hs, 0, nh);
        K::attention_f16(got.data(), att.data(), q.data(), kc.data(), vc.data(), pos, nh, nkv, hs, 0, nh);
        expect_close(got, want, std::sqrt(float(hs)));
        // Heads in two calls (as the pool splits them; the cut inside a key/value group when
        // there is one): the same floats as one call.
        for (int cut : {1, nh / 2, nh - 1}) {
            std::vector<float> parts(want.size(), -1.0f);
            K::attention_f16(parts.data(), att.data(), q.data(), kc.data(), vc.data(), pos, nh, nkv, hs, 0, cut);
            K::attention_f16(parts.data(), att.data(), q.data(), kc.data(), vc.data(), pos, nh, nkv, hs, cut, nh);
            EXPECT_EQ(0, memcmp(parts.data(), got.data(), got.size() * sizeof(float))) << "heads split at " << cut;
        }
    }
}

// ---- the other weight types: Q8_1 / Q8_K / bf16 activations and their matvecs -------------------

namespace {

using QZ = void (*)(void *, const float *, int);

// Inputs that probe the quantizers' edges: random values, an all-zero block, exact ties at
// q + 0.5 (nearest even), a block whose largest magnitude is negative, and equal magnitudes of
// both signs (the first one sets the sign of Q8_K's scale).
std::vector<float> edge_input(int n, int block) {
    auto x = rnd(size_t(n), 8, 2.0f);
    for (int j = 0; j < block && j < n; j++) x[size_t(j)] = 0.0f;
    if (n >= 2 * block) {
        float *b = x.data() + block;
        b[0] = 127.0f;  // scale 1: the others quantize to themselves, rounded
        for (int j = 1; j < 12; j++) b[j] = float(j) - 5.5f;  // ties
    }
    if (n >= 3 * block) {
        float *b = x.data() + 2 * block;
        b[3] = -3.0f;
        b[7] = 3.0f;
    }
    if (n >= 4 * block) x[size_t(3 * block + 1)] = -2.5f;
    return x;
}

void expect_bit_exact(QZ fast, QZ ref, int n, size_t bytes, int block) {
    auto x = edge_input(n, block);
    std::vector<unsigned char> want(bytes, 0xAB), got(bytes, 0xCD);
    ref(want.data(), x.data(), n);
    fast(got.data(), x.data(), n);
    EXPECT_EQ(got, want) << n;
}

}  // namespace

TEST(QuantKernels, QuantizeQ8_1IsBitExact) {
    for (int n : {32, 288, 2048}) expect_bit_exact(K::quantize_q8_1, K::ref::quantize_q8_1, n, size_t(n / 32) * 36, 32);
    // s = d * sum(q) with the unrounded d: a block of 127 and 31 ones.
    std::vector<float> x(32, 1.0f);
    x[0] = 127.0f;
    Q::block_q8_1 b;
    K::quantize_q8_1(&b, x.data(), 32);
    EXPECT_EQ(Q::fp16_to_fp32(b.d), 1.0f);
    EXPECT_EQ(Q::fp16_to_fp32(b.s), 158.0f);
    EXPECT_EQ(b.qs[0], 127);
    EXPECT_EQ(b.qs[1], 1);
}

TEST(QuantKernels, QuantizeQ8_KIsBitExact) {
    for (int n : {256, 1024, 2048})
        expect_bit_exact(K::quantize_q8_k, K::ref::quantize_q8_k, n, size_t(n / 256) * sizeof(Q::block_q8_K), 256);
    // The value of largest magnitude maps to -127 exactly; d is negative when it is positive.
    std::vector<float> x(256, 0.5f);
    x[9] = 2.0f;
    x[10] = -2.0f;  // same magnitude, later: does not take over
    Q::block_q8_K b;
    K::quantize_q8_k(&b, x.data(), 256);
    EXPECT_EQ(b.qs[9], -127);
    EXPECT_EQ(b.qs[10], 127);
    EXPECT_EQ(b.qs[0], -32);  // 0.5 * 63.5 = 31.75
    EXPECT_FLOAT_EQ(b.d, -2.0f / 127.0f);
    EXPECT_EQ(b.bsums[0], -32 * 14 - 127 + 127);
    EXPECT_EQ(b.bsums[1], -32 * 16);
}

TEST(QuantKernels, ToBf16IsBitExact) {
    auto x = rnd(5000, 9, 1e5f);
    for (float v : {0.0f, -0.0f, INFINITY, -INFINITY, NAN, 1.00390625f, 1.01171875f, 3.4e38f, 1e-40f}) x.push_back(v);
    std::vector<uint16_t> want(x.size()), got(x.size());
    K::ref::to_bf16(want.data(), x.data(), int(x.size()));
    K::to_bf16(got.data(), x.data(), int(x.size()));
    EXPECT_EQ(got, want);
}

TEST(QuantKernels, OtherTypeMatvecsMatchTheReference) {
    using MV = void (*)(float *, const void *, const void *, int, int);
    struct Case {
        uint32_t type;
        MV fast, ref;
        QZ quantize;
        int block;
        size_t xblock_bytes;
    };
    const Case cases[] = {
        {Q::Q4_1, K::matvec_q4_1, K::ref::matvec_q4_1, K::ref::quantize_q8_1, 32, 36},
        {Q::Q5_1, K::matvec_q5_1, K::ref::matvec_q5_1, K::ref::quantize_q8_1, 32, 36},
        {Q::Q2_K, K::matvec_q2_k, K::ref::matvec_q2_k, K::ref::quantize_q8_k, 256, sizeof(Q::block_q8_K)},
        {Q::Q3_K, K::matvec_q3_k, K::ref::matvec_q3_k, K::ref::quantize_q8_k, 256, sizeof(Q::block_q8_K)},
        {Q::Q4_0_X8, K::matvec_q4_0x8, K::ref::matvec_q4_0x8, K::ref::quantize_q8_0, 32, sizeof(Q::block_q8_0)},
        {Q::Q4_K, K::matvec_q4_k, K::ref::matvec_q4_k, K::ref::quantize_q8_k, 256, sizeof(Q::block_q8_K)},
        {Q::Q5_K, K::matvec_q5_k, K::ref::matvec_q5_k, K::ref::quantize_q8_k, 256, sizeof(Q::block_q8_K)},
        {Q::Q6_K, K::matvec_q6_k, K::ref::matvec_q6_k, K::ref::quantize_q8_k, 256, sizeof(Q::block_q8_K)},
        {Q::BF16, K::matvec_bf16, K::ref::matvec_bf16, K::ref::to_bf16, 1, 2},
    };
    for (auto [n, d] : {std::pair{256, 1}, std::pair{768, 33}, std::pair{2048, 20}}) {
        auto x = rnd(size_t(n), 10);
        for (const auto &c : cases) {
            SCOPED_TRACE(c.type);
            std::vector<unsigned char> xq(size_t(n / c.block) * c.xblock_bytes), w;
            c.quantize(xq.data(), x.data(), n);
            if (c.type == Q::BF16) {  // random bit patterns could be NaN: real values instead
                auto wf = rnd(size_t(n) * d, 11);
                w.resize(wf.size() * 2);
                K::ref::to_bf16(w.data(), wf.data(), int(wf.size()));
            } else {
                w = blocks(c.type, d, n, 12 + c.type);
            }
            std::vector<float> want(static_cast<size_t>(d)), got(static_cast<size_t>(d));
            c.ref(want.data(), xq.data(), w.data(), n, d);
            c.fast(got.data(), xq.data(), w.data(), n, d);
            float scale = 0;
            for (float v : want) scale = std::fmax(scale, std::fabs(v));
            expect_close(got, want, scale);
        }
    }
}

// llama.cpp's acceptance measure for its own matmul tests: the normalized mean squared error
// sum((got - want)^2) / sum(want^2) below 5e-4, for every type's matvec and matmat, on the
// smallest row (one block) and a row longer than the kernels' activation chunk of 8192 values
// (so the chunked path runs), odd row counts, 1 and 5 positions.
TEST(QuantKernels, EveryTypeWithinLlamaCppNmse) {
    using MV = void (*)(float *, const void *, const void *, int, int);
    using MM = void (*)(float *, const void *, const void *, int, int, int);
    using QZ2 = void (*)(void *, const float *, int);
    struct Case {
        uint32_t type;
        MV mv, mv_ref;
        MM mm, mm_ref;
        QZ2 quantize;
        int xblock;             // values per activation block
        size_t xblock_bytes;
    };
    const size_t q80 = sizeof(Q::block_q8_0), q81 = sizeof(Q::block_q8_1), q8k = sizeof(Q::block_q8_K);
    const Case cases[] = {
        {Q::Q8_0, K::matvec_q8_0, K::ref::matvec_q8_0, K::matmat_q8_0, K::ref::matmat_q8_0, K::ref::quantize_q8_0, 32, q80},
        {Q::Q4_0, K::matvec_q4_0, K::ref::matvec_q4_0, K::matmat_q4_0, K::ref::matmat_q4_0, K::ref::quantize_q8_0, 32, q80},
        {Q::Q4_0_X8, K::matvec_q4_0x8, K::ref::matvec_q4_0x8, K::matmat_q4_0x8, K::ref::matmat_q4_0x8, K::ref::quantize_q8_0,
         32, q80},
        {Q::Q5_0, K::matvec_q5_0, K::ref::matvec_q5_0, K::matmat_q5_0, K::ref::matmat_q5_0, K::ref::quantize_q8_0, 32, q80},
        {Q::Q4_1, K::matvec_q4_1, K::ref::matvec_q4_1, K::matmat_q4_1, K::ref::matmat_q4_1, K::ref::quantize_q8_1, 32, q81},
        {Q::Q5_1, K::matvec_q5_1, K::ref::matvec_q5_1, K::matmat_q5_1, K::ref::matmat_q5_1, K::ref::quantize_q8_1, 32, q81},
        {Q::Q2_K, K::matvec_q2_k, K::ref::matvec_q2_k, K::matmat_q2_k, K::ref::matmat_q2_k, K::ref::quantize_q8_k, 256, q8k},
        {Q::Q3_K, K::matvec_q3_k, K::ref::matvec_q3_k, K::matmat_q3_k, K::ref::matmat_q3_k, K::ref::quantize_q8_k, 256, q8k},
        {Q::Q4_K, K::matvec_q4_k, K::ref::matvec_q4_k, K::matmat_q4_k, K::ref::matmat_q4_k, K::ref::quantize_q8_k, 256, q8k},
        {Q::Q5_K, K::matvec_q5_k, K::ref::matvec_q5_k, K::matmat_q5_k, K::ref::matmat_q5_k, K::ref::quantize_q8_k, 256, q8k},
        {Q::Q6_K, K::matvec_q6_k, K::ref::matvec_q6_k, K::matmat_q6_k, K::ref::matmat_q6_k, K::ref::quantize_q8_k, 256, q8k},
        {Q::F16, K::matvec_f16, K::ref::matvec_f16, K::matmat_f16, K::ref::matmat_f16, K::ref::to_f16, 1, 2},
        {Q::BF16, K::matvec_bf16, K::ref::matvec_bf16, K::matmat_bf16, K::ref::matmat_bf16, K::ref::to_bf16, 1, 2},
    };
    auto nmse = [](const std::vector<float> &got, const std::vector<float> &want) {
        double num = 0, den = 0;
        for (size_t i = 0; i < want.size(); i++) {
            num += (double(got[i]) - want[i]) * (double(got[i]) - want[i]);
            den += double(want[i]) * want[i];
        }
        return den > 0 ? num / den : num;
    };
    for (const Case &c : cases) {
        SCOPED_TRACE(c.type);
        const int block = Q::block_size(c.type);
        for (auto [n, d] : {std::pair{block == 256 ? 256 : 32, 3}, std::pair{8192 + 3 * 256, 7}}) {
            const int m = 5;
            const size_t row = size_t(n / c.xblock) * c.xblock_bytes;
            const auto x = rnd(size_t(n) * m, 30);
            std::vector<unsigned char> xq(row * m), w;
            for (int p = 0; p < m; p++) c.quantize(xq.data() + p * row, x.data() + size_t(p) * n, n);
            if (c.type == Q::F16 || c.type == Q::BF16) {  // real values: random bits could be NaN
                const auto wf = rnd(size_t(n) * d, 31);
                w.resize(wf.size() * 2);
                (c.type == Q::F16 ? K::ref::to_f16 : K::ref::to_bf16)(w.data(), wf.data(), int(wf.size()));
            } else {
                w = blocks(c.type, d, n, 32 + c.type);
            }
            std::vector<float> want(static_cast<size_t>(d)), got(static_cast<size_t>(d));
            c.mv_ref(want.data(), xq.data(), w.data(), n, d);
            c.mv(got.data(), xq.data(), w.data(), n, d);
            EXPECT_LT(nmse(got, want), 5e-4) << "matvec n " << n << " d " << d;
            std::vector<float> want_m(size_t(d) * m), got_m(size_t(d) * m);
            c.mm_ref(want_m.data(), xq.data(), w.data(), n, d, m);
            c.mm(got_m.data(), xq.data(), w.data(), n, d, m);
            EXPECT_LT(nmse(got_m, want_m), 5e-4) << "matmat n " << n << " d " << d << " m " << m;
            // A position in a batch is computed exactly as alone (the prompt and generation paths
            // agree bit for bit), except where the paths differ on purpose: the F16/BF16 matmat
            // pairs positions (qmatvec.cpp).
            if (c.type != Q::F16 && c.type != Q::BF16)
                for (int i = 0; i < d; i++) EXPECT_EQ(got_m[size_t(i)], got[size_t(i)]) << "row " << i;
        }
    }
}

// Q4_0 regrouped at load (quant.h block_q4_0x8): the same values, the same products. The fast
// and reference matvecs over the regrouped rows give exactly what they give over the file's
// rows (the same integer sums, added in the same order), and the dequantized rows are equal.
TEST(QuantKernels, RegroupedQ4_0IsTheSameMatrix) {
    for (auto [n, d] : {std::pair{256, 1}, std::pair{768, 5}, std::pair{8192 + 256, 3}}) {
        SCOPED_TRACE(n);
        auto w = blocks(Q::Q4_0, d, n, 40);
        auto g = w;
        const size_t row = size_t(n / 32) * sizeof(Q::block_q4_0);
        for (int r = 0; r < d; r++) ASSERT_TRUE(Q::regroup_q4_0(g.data() + r * row, n));
        EXPECT_NE(g, w);
        std::vector<float> a(static_cast<size_t>(n)), b(a.size());
        for (int r = 0; r < d; r++) {
            ASSERT_TRUE(Q::dequantize_row(Q::Q4_0, w.data() + r * row, a.data(), n));
            ASSERT_TRUE(Q::dequantize_row(Q::Q4_0_X8, g.data() + r * row, b.data(), n));
            EXPECT_EQ(a, b) << "row " << r;
        }
        auto x = rnd(size_t(n), 41);
        std::vector<unsigned char> xq(size_t(n / 32) * sizeof(Q::block_q8_0));
        K::ref::quantize_q8_0(xq.data(), x.data(), n);
        std::vector<float> want(static_cast<size_t>(d)), got(want.size());
        K::ref::matvec_q4_0(want.data(), xq.data(), w.data(), n, d);
        K::ref::matvec_q4_0x8(got.data(), xq.data(), g.data(), n, d);
        EXPECT_EQ(got, want);
        K::matvec_q4_0(want.data(), xq.data(), w.data(), n, d);
        K::matvec_q4_0x8(got.data(), xq.data(), g.data(), n, d);
        EXPECT_EQ(got, want);
    }
    std::vector<unsigned char> r(18 * 12, 7);
    const auto before = r;
    EXPECT_FALSE(Q::regroup_q4_0(r.data(), 12 * 32));  // not whole groups of 8 blocks
    EXPECT_FALSE(Q::regroup_q4_0(r.data(), 0));
    EXPECT_EQ(r, before);
}
