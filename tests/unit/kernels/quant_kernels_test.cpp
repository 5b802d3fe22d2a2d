// The registry's quantized-weight kernels (qmatvec.cpp) against their reference twins
// (quant_ref.cpp): Q8_0 activation quantization bit for bit, the integer block dot products to
// rounding, fp16 conversions for every value.
#include "jit/kernels/kernels.h"
#include "jit/kernels/quant.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

namespace {

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
    for (size_t i = 0; i < nb; i++) {
        const Q::fp16_t d = Q::fp32_to_fp16(0.001f + float(g() % 1000) * 1e-5f);
        std::memcpy(&b[i * bb], &d, 2);
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
        K::ref::attention_f16(want.data(), att.data(), q.data(), kc.data(), vc.data(), pos, nh, nkv, hs);
        K::attention_f16(got.data(), att.data(), q.data(), kc.data(), vc.data(), pos, nh, nkv, hs);
        expect_close(got, want, std::sqrt(float(hs)));
    }
}
