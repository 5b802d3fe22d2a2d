// Unit tests: every optimized kernel (bf::kern::X) against its reference loop (bf::kern::ref::X)
// on random data with fixed seeds and awkward shapes. Behaviour only, never timing.
//
// Built three times with different tile sizes (tests/CMakeLists.txt: kernels_test, the v16. and
// v4. variants). Build and run (from the repository root):
//   cmake -S tests -B build/unit && cmake --build build/unit -j2 &&
//   ctest --test-dir build/unit -L kernels --output-on-failure
//
// Tolerances. The optimized kernels sum in a different order than the reference loops (per-lane
// partial sums, k blocking in sgemm, FMA contraction where the target has it) and use their own
// exp, so results are compared with a tolerance, not bit for bit:
//   dot-product kernels (matvec, sgemm, attention), inputs uniform in [-1, 1]:
//       |opt - ref| <= 1e-4 * |ref| + 1e-5 * sqrt(k)            (k = length of the sums)
//     The relative part covers ordinary results; the absolute floor covers results that cancel to
//     near zero, where a relative bound means nothing. Rounding differences of two fp32 sums of
//     k terms of size <= 1 grow like eps * sqrt(k) * (partial sum ~ sqrt(k)), i.e. ~1e-5 at
//     k = 1000: the floor leaves a margin of ~30x at k = 1000 and is still a ~100x tighter check
//     than a summation bug (a missing or doubled term of size ~0.3) would pass.
//   exp-based kernels (softmax, swiglu): relative 1e-5 (the inline exp is within a few ulp) with
//     an absolute floor of 1e-30 for results in or near the subnormal range; softmax adds
//     4e-7 * sqrt(n) relative for its normalizing sum of n terms (the reference's serial sum
//     drifts by ~eps * sqrt(n): 1.5e-5 at n = 32000).
//   rmsnorm, rope: relative 1e-5 / 1e-6, absolute 1e-6.
//   add, mul: exact (one rounding, same operation).
// Every output buffer is pre-filled with NaN and surrounded by guard words, so a missed element or
// a write out of bounds fails the test.
#include "kernels.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <tuple>
#include <vector>

namespace {

namespace kern = bf::kern;

const int kShapes[] = {1, 2, 3, 7, 15, 16, 17, 31, 33, 64, 100, 255, 1000};

std::vector<float> random_vec(size_t n, uint32_t seed, float lo = -1.0f, float hi = 1.0f) {
    // mt19937 bits to [lo, hi) directly (std::uniform_real_distribution calls logl per value
    // when built with clang: seconds for the 32000 x 768 case).
    std::mt19937 gen(seed);
    std::vector<float> v(n);
    for (auto &x : v) x = lo + (hi - lo) * (float(gen() >> 8) * (1.0f / 16777216.0f));
    return v;
}

// An output array with guard words on both sides; the interior starts as NaN.
class Guarded {
public:
    explicit Guarded(size_t n) : buf_(n + 2 * kGuard, kSentinel) {
        for (size_t i = 0; i < n; i++) buf_[kGuard + i] = std::numeric_limits<float>::quiet_NaN();
    }
    float *data() { return buf_.data() + kGuard; }
    size_t size() const { return buf_.size() - 2 * kGuard; }
    float operator[](size_t i) const { return buf_[kGuard + i]; }
    bool guards_intact() const {
        for (size_t i = 0; i < kGuard; i++)
            if (std::memcmp(&buf_[i], &kSentinel, 4) != 0 ||
                std::memcmp(&buf_[buf_.size() - 1 - i], &kSentinel, 4) != 0)
                return false;
        return true;
    }

private:
    static constexpr size_t kGuard = 64;
    static constexpr float kSentinel = 12345.678f;
    std::vector<float> buf_;
};

std::string fmt(double v) {
    char b[32];
    std::snprintf(b, sizeof b, "%.9g", v);
    return b;
}

// Compares got against want element by element: |got - want| <= rel * |want| + abs_tol, NaN only
// where want is NaN. Reports the first few mismatches and their count.
::testing::AssertionResult close(const float *got, const float *want, size_t n, double rel,
                                 double abs_tol) {
    size_t bad = 0;
    std::string first;
    for (size_t i = 0; i < n; i++) {
        const double g = got[i], w = want[i];
        bool ok;
        if (std::isnan(w)) ok = std::isnan(g);
        else if (std::isinf(w)) ok = g == w;
        else ok = std::isfinite(g) && std::fabs(g - w) <= rel * std::fabs(w) + abs_tol;
        if (!ok && bad++ < 5)
            first += "\n  [" + std::to_string(i) + "] got " + fmt(g) + " want " +
                     fmt(w) + " (rel diff " + fmt(w != 0 ? (g - w) / std::fabs(w) : g - w) + ")";
    }
    if (bad == 0) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << bad << " of " << n << " elements differ (rel " << rel
                                         << ", abs " << abs_tol << "):" << first;
}

double dot_tol(int k) { return 1e-5 * std::sqrt(double(k)); }
constexpr double kDotRel = 1e-4;

// ---------------------------------------------------------------------------------------- matvec

void check_matvec(int n, int d, uint32_t seed) {
    SCOPED_TRACE("matvec n=" + std::to_string(n) + " d=" + std::to_string(d));
    const auto w = random_vec(size_t(n) * d, seed), x = random_vec(n, seed + 1);
    std::vector<float> want(d);
    kern::ref::matvec(want.data(), x.data(), w.data(), n, d);
    Guarded got(d);
    kern::matvec(got.data(), x.data(), w.data(), n, d);
    EXPECT_TRUE(close(got.data(), want.data(), d, kDotRel, dot_tol(n)));
    EXPECT_TRUE(got.guards_intact());
}

TEST(Matvec, AwkwardShapes) {
    uint32_t seed = 100;
    for (int n : kShapes)
        for (int d : kShapes) check_matvec(n, d, seed++);
}

TEST(Matvec, LlamaShapes) {
    check_matvec(288, 288, 1);    // stories15M dim x dim
    check_matvec(2048, 768, 2);   // W: 768 x 2048 (FFN down projection)
    check_matvec(768, 2048, 3);   // W: 2048 x 768 (FFN up projection)
    check_matvec(768, 32000, 4);  // classifier: 32000 x 768
}

// ----------------------------------------------------------------------------------------- sgemm

void check_sgemm(int m, int n, int k, bool trans_b, uint32_t seed) {
    SCOPED_TRACE("sgemm m=" + std::to_string(m) + " n=" + std::to_string(n) + " k=" +
                 std::to_string(k) + (trans_b ? " A*B^T" : " A*B"));
    const auto a = random_vec(size_t(m) * k, seed), b = random_vec(size_t(k) * n, seed + 1);
    std::vector<float> want(size_t(m) * n);
    kern::ref::sgemm(want.data(), a.data(), b.data(), m, n, k, trans_b);
    Guarded got(size_t(m) * n);
    kern::sgemm(got.data(), a.data(), b.data(), m, n, k, trans_b);
    EXPECT_TRUE(close(got.data(), want.data(), want.size(), kDotRel, dot_tol(k)));
    EXPECT_TRUE(got.guards_intact());
}

// Every combination of the small shapes (tile edges: below, at and above the vector width and
// the micro-tile sizes), both ways.
TEST(Sgemm, SmallShapesAllCombinations) {
    const int small[] = {1, 2, 3, 7, 15, 16, 17, 31, 33, 64};
    uint32_t seed = 1000;
    for (bool tb : {false, true})
        for (int m : small)
            for (int n : small)
                for (int k : small) check_sgemm(m, n, k, tb, seed++);
}

// One dimension large (crossing the MC / KC / NC cache blocks), the others small.
TEST(Sgemm, OneLargeDimension) {
    const int large[] = {100, 255, 1000};
    const int small[] = {1, 7, 16, 33};
    uint32_t seed = 5000;
    for (bool tb : {false, true})
        for (int big : large)
            for (int s1 : small)
                for (int s2 : small) {
                    check_sgemm(big, s1, s2, tb, seed++);
                    check_sgemm(s1, big, s2, tb, seed++);
                    check_sgemm(s1, s2, big, tb, seed++);
                }
}

// Several large dimensions at once (all blocking loops with edges).
TEST(Sgemm, LargeShapes) {
    uint32_t seed = 9000;
    for (bool tb : {false, true}) {
        check_sgemm(64, 64, 64, tb, seed++);
        check_sgemm(100, 100, 100, tb, seed++);
        check_sgemm(255, 255, 255, tb, seed++);
        check_sgemm(100, 1000, 33, tb, seed++);
        check_sgemm(1000, 17, 100, tb, seed++);
        check_sgemm(33, 1000, 255, tb, seed++);
        check_sgemm(1000, 100, 255, tb, seed++);
        check_sgemm(255, 1000, 1000, tb, seed++);
    }
}

// A prompt batch times a weight matrix (trans_b, m <= 64 takes the unpacked dot-product path),
// on both sides of the switch to packing.
TEST(Sgemm, PromptBatchShapes) {
    uint32_t seed = 9500;
    for (int m : {2, 5, 32, 63, 64, 65})
        for (int n : {288, 770})
            check_sgemm(m, n, 291, true, seed++);
    check_sgemm(32, 101, 768, true, seed++);
}

// The packing buffers are static: results must not depend on earlier calls.
TEST(Sgemm, RepeatedCallsIndependent) {
    check_sgemm(255, 1000, 1000, false, 42);
    check_sgemm(3, 5, 7, true, 43);
    check_sgemm(17, 31, 300, false, 44);
    check_sgemm(255, 1000, 1000, false, 42);
}

// m == 1 takes the matvec / row-combination path: the llama shapes.
TEST(Sgemm, SingleRow) {
    uint32_t seed = 7000;
    for (bool tb : {false, true}) {
        check_sgemm(1, 288, 288, tb, seed++);
        check_sgemm(1, 2048, 768, tb, seed++);
        check_sgemm(1, 768, 2048, tb, seed++);
    }
}

// --------------------------------------------------------------------------------------- rmsnorm

TEST(Rmsnorm, Shapes) {
    uint32_t seed = 200;
    std::vector<int> shapes(std::begin(kShapes), std::end(kShapes));
    shapes.insert(shapes.end(), {288, 768, 4096, 32000});
    for (int n : shapes) {
        SCOPED_TRACE("n=" + std::to_string(n));
        const auto x = random_vec(n, seed++, -3.0f, 3.0f), w = random_vec(n, seed++);
        std::vector<float> want(n);
        kern::ref::rmsnorm(want.data(), x.data(), w.data(), n, 1e-5f);
        Guarded got(n);
        kern::rmsnorm(got.data(), x.data(), w.data(), n, 1e-5f);
        EXPECT_TRUE(close(got.data(), want.data(), n, 1e-5, 1e-6));
        EXPECT_TRUE(got.guards_intact());
        // In place (o == x), as llama2.c does for the final norm.
        std::vector<float> inplace = x;
        kern::rmsnorm(inplace.data(), inplace.data(), w.data(), n, 1e-5f);
        EXPECT_TRUE(close(inplace.data(), want.data(), n, 1e-5, 1e-6));
    }
}

// --------------------------------------------------------------------------------------- softmax

void check_softmax(std::vector<float> x, const char *what) {
    SCOPED_TRACE(std::string(what) + " n=" + std::to_string(x.size()));
    std::vector<float> want = x;
    kern::ref::softmax(want.data(), int(want.size()));
    Guarded got(x.size());
    std::memcpy(got.data(), x.data(), x.size() * sizeof(float));
    kern::softmax(got.data(), int(x.size()));
    // The normalizing sum has n terms: the reference's serial fp32 sum is off by ~eps * sqrt(n)
    // relative (1.5e-5 measured at n = 32000), hence the n-dependent part.
    const double rel = 1e-5 + 4e-7 * std::sqrt(double(x.size()));
    EXPECT_TRUE(close(got.data(), want.data(), x.size(), rel, 1e-30));
    EXPECT_TRUE(got.guards_intact());
}

TEST(Softmax, Shapes) {
    uint32_t seed = 300;
    std::vector<int> shapes(std::begin(kShapes), std::end(kShapes));
    shapes.insert(shapes.end(), {512, 4096, 32000});
    for (int n : shapes) {
        check_softmax(random_vec(n, seed++, -5.0f, 5.0f), "small range");
        check_softmax(random_vec(n, seed++, -60.0f, 60.0f), "wide range");
    }
}

// The inline exp over its whole range: exp(t) for t from 0 down to beyond the subnormal range
// (softmax of {0, t} is {1 / (1 + e^t), e^t / (1 + e^t)}), plus masked (-inf) entries.
TEST(Softmax, ExpRange) {
    std::vector<float> x;
    for (float t = 0.0f; t > -110.0f; t -= 0.173f) x.push_back(t);
    check_softmax(x, "ramp");
    for (float t = -110.0f; t < 0.0f; t += 0.37f) check_softmax({0.0f, t}, "pair");
    std::vector<float> masked = random_vec(37, 7, -3.0f, 3.0f);
    for (size_t i = 0; i < masked.size(); i += 3) masked[i] = -INFINITY;
    check_softmax(masked, "masked");
    check_softmax({5.0f}, "single");
    check_softmax(std::vector<float>(100, 2.5f), "constant");
}

// ------------------------------------------------------------------------------------------ rope

void check_rope(int pos, int dim, int kv_dim, int head_size) {
    SCOPED_TRACE("rope pos=" + std::to_string(pos) + " dim=" + std::to_string(dim) + " kv_dim=" +
                 std::to_string(kv_dim) + " head_size=" + std::to_string(head_size));
    const int klen = kv_dim > dim ? kv_dim : dim;
    const auto q0 = random_vec(dim, 400 + pos), k0 = random_vec(klen, 500 + pos);
    std::vector<float> wq = q0, wk = k0;
    kern::ref::rope(wq.data(), wk.data(), pos, dim, kv_dim, head_size, 10000.0f, nullptr);
    Guarded gq(dim), gk(klen);
    std::memcpy(gq.data(), q0.data(), dim * sizeof(float));
    std::memcpy(gk.data(), k0.data(), klen * sizeof(float));
    kern::rope(gq.data(), gk.data(), pos, dim, kv_dim, head_size, 10000.0f, nullptr);
    EXPECT_TRUE(close(gq.data(), wq.data(), dim, 1e-6, 1e-6));
    EXPECT_TRUE(close(gk.data(), wk.data(), klen, 1e-6, 1e-6));
    EXPECT_TRUE(gq.guards_intact() && gk.guards_intact());
}

TEST(Rope, Shapes) {
    for (int pos : {0, 1, 17, 127, 1000, 4095}) {
        check_rope(pos, 288, 288, 48);    // stories15M
        check_rope(pos, 768, 768, 64);    // stories110M
        check_rope(pos, 512, 128, 64);    // grouped-query: kv_dim < dim
        check_rope(pos, 64, 64, 8);
        check_rope(pos, 32, 16, 16);
        check_rope(pos, 40, 24, 16);      // dim not a multiple of head_size
        check_rope(pos, 16, 32, 16);      // kv_dim > dim: k rotated only below dim
        check_rope(pos, 12, 12, 3);       // odd head_size (generic path)
        check_rope(pos, 1024, 1024, 1024);  // head_size beyond the cos/sin table (generic path)
    }
}

// Llama 3.1's frequency factors: the angle of pair t divided by factors[t]; factors of 1 change
// nothing at all.
TEST(Rope, FrequencyFactors) {
    const int dim = 256, kv_dim = 64, hs = 64;
    std::vector<float> factors(hs / 2), ones(hs / 2, 1.0f);
    for (int t = 0; t < hs / 2; t++) factors[size_t(t)] = 1.0f + float(t) * 0.25f;
    for (int pos : {0, 5, 1000}) {
        const auto q0 = random_vec(dim, 800 + pos), k0 = random_vec(kv_dim, 900 + pos);
        std::vector<float> wq = q0, wk = k0, gq = q0, gk = k0, nq = q0, nk = k0, oq = q0, ok = k0;
        kern::ref::rope(wq.data(), wk.data(), pos, dim, kv_dim, hs, 500000.0f, factors.data());
        kern::rope(gq.data(), gk.data(), pos, dim, kv_dim, hs, 500000.0f, factors.data());
        EXPECT_TRUE(close(gq.data(), wq.data(), dim, 1e-6, 1e-6));
        EXPECT_TRUE(close(gk.data(), wk.data(), kv_dim, 1e-6, 1e-6));
        kern::rope(nq.data(), nk.data(), pos, dim, kv_dim, hs, 500000.0f, nullptr);
        kern::rope(oq.data(), ok.data(), pos, dim, kv_dim, hs, 500000.0f, ones.data());
        EXPECT_EQ(nq, oq);
        EXPECT_EQ(nk, ok);
    }
}

// NEOX pairing (qwen2): whole heads of q and k, elements i and i + head_size/2 rotate together.
TEST(RopeNeox, ShapesAndPairing) {
    for (int pos : {0, 1, 17, 4095}) {
        for (auto [dim, kv_dim, hs] : {std::tuple{896, 128, 64}, std::tuple{288, 96, 48}, std::tuple{64, 64, 16}}) {
            const auto q0 = random_vec(dim, 600 + pos), k0 = random_vec(kv_dim, 700 + pos);
            std::vector<float> wq = q0, wk = k0, gq = q0, gk = k0;
            kern::ref::rope_neox(wq.data(), wk.data(), pos, dim, kv_dim, hs, 1000000.0f);
            kern::rope_neox(gq.data(), gk.data(), pos, dim, kv_dim, hs, 1000000.0f);
            EXPECT_TRUE(close(gq.data(), wq.data(), dim, 1e-6, 1e-6));
            EXPECT_TRUE(close(gk.data(), wk.data(), kv_dim, 1e-6, 1e-6));
        }
    }
    // The pairing itself: with only element 0 and element head_size/2 of a head set, a rotation
    // by pos * theta^0 = pos radians moves exactly those two.
    std::vector<float> q(16, 0.0f), k(16, 0.0f);
    q[0] = 1.0f;
    kern::rope_neox(q.data(), k.data(), 1, 16, 16, 16, 10000.0f);
    EXPECT_NEAR(q[0], std::cos(1.0f), 1e-6);
    EXPECT_NEAR(q[8], std::sin(1.0f), 1e-6);
    for (int i : {1, 2, 7, 9, 15}) EXPECT_EQ(q[i], 0.0f);
}

// ------------------------------------------------------------------------------------- attention

void check_attention(int pos, int n_heads, int n_kv_heads, int head_size, uint32_t seed) {
    SCOPED_TRACE("attention pos=" + std::to_string(pos) + " heads=" + std::to_string(n_heads) +
                 "/" + std::to_string(n_kv_heads) + " head_size=" + std::to_string(head_size));
    const int dim = n_heads * head_size, kv_dim = n_kv_heads * head_size, len = pos + 1;
    const auto q = random_vec(dim, seed), kc = random_vec(size_t(len) * kv_dim, seed + 1),
               vc = random_vec(size_t(len) * kv_dim, seed + 2);
    std::vector<float> want(dim), watt(size_t(n_heads) * len);
    kern::ref::attention(want.data(), watt.data(), q.data(), kc.data(), vc.data(), pos, n_heads,
                         n_kv_heads, head_size, 0, n_heads);
    Guarded got(dim), att(size_t(n_heads) * len);
    kern::attention(got.data(), att.data(), q.data(), kc.data(), vc.data(), pos, n_heads,
                    n_kv_heads, head_size, 0, n_heads);
    EXPECT_TRUE(close(got.data(), want.data(), dim, kDotRel, dot_tol(len > head_size ? len : head_size)));
    EXPECT_TRUE(got.guards_intact());
    EXPECT_TRUE(att.guards_intact());
    // Heads in two calls (as the pool splits them; cuts inside a key/value group too): the same
    // floats as one call, and nothing written outside each call's heads.
    for (int cut : {1, n_heads / 2, n_heads - 1}) {
        Guarded parts(dim);
        kern::attention(parts.data(), att.data(), q.data(), kc.data(), vc.data(), pos, n_heads, n_kv_heads,
                        head_size, 0, cut);
        for (int i = cut * head_size; i < dim; i++) ASSERT_TRUE(std::isnan(parts[i])) << "head " << i / head_size;
        kern::attention(parts.data(), att.data(), q.data(), kc.data(), vc.data(), pos, n_heads, n_kv_heads,
                        head_size, cut, n_heads);
        EXPECT_EQ(0, memcmp(parts.data(), got.data(), size_t(dim) * sizeof(float))) << "heads split at " << cut;
        EXPECT_TRUE(parts.guards_intact());
    }
}

TEST(Attention, Shapes) {
    uint32_t seed = 600;
    for (int pos : {0, 1, 17, 127})
        for (auto [nh, nkv] : {std::pair{4, 4}, std::pair{8, 2}, std::pair{6, 1}})
            for (int hs : {8, 16, 48, 64}) check_attention(pos, nh, nkv, hs, seed += 3);
}

TEST(Attention, LongContext) {
    check_attention(1023, 12, 12, 64, 77);  // stories110M at position 1023
    check_attention(511, 8, 4, 48, 78);
}

// ---------------------------------------------------------------------------- element-wise kernels

std::vector<int> elementwise_shapes() {
    std::vector<int> s(std::begin(kShapes), std::end(kShapes));
    s.insert(s.end(), {768, 2048, 5632, 32000});
    return s;
}

TEST(Swiglu, Shapes) {
    uint32_t seed = 800;
    for (int n : elementwise_shapes()) {
        SCOPED_TRACE("n=" + std::to_string(n));
        const auto h0 = random_vec(n, seed++, -8.0f, 8.0f), g = random_vec(n, seed++);
        std::vector<float> want = h0;
        kern::ref::swiglu(want.data(), g.data(), n);
        Guarded got(n);
        std::memcpy(got.data(), h0.data(), n * sizeof(float));
        kern::swiglu(got.data(), g.data(), n);
        EXPECT_TRUE(close(got.data(), want.data(), n, 1e-5, 1e-30));
        EXPECT_TRUE(got.guards_intact());
    }
}

// Extreme inputs: exp(-x) overflowing and underflowing, infinities, NaN.
TEST(Swiglu, ExtremeValues) {
    std::vector<float> h;
    for (float t = -120.0f; t <= 120.0f; t += 0.25f) h.push_back(t);
    for (float t : {-1e30f, -1000.0f, -88.73f, -88.72f, -87.34f, 87.34f, 88.72f, 1000.0f, 1e30f,
                    INFINITY, -INFINITY, 0.0f, -0.0f, 1e-30f, -1e-30f})
        h.push_back(t);
    const int n = int(h.size());
    const auto g = random_vec(n, 9, 0.5f, 2.0f);
    std::vector<float> want = h, got = h;
    kern::ref::swiglu(want.data(), g.data(), n);
    kern::swiglu(got.data(), g.data(), n);
    EXPECT_TRUE(close(got.data(), want.data(), n, 1e-5, 1e-30));
    float nan_in[1] = {std::numeric_limits<float>::quiet_NaN()}, one[1] = {1.0f};
    kern::swiglu(nan_in, one, 1);
    EXPECT_TRUE(std::isnan(nan_in[0]));
}

TEST(AddMul, ShapesExact) {
    uint32_t seed = 900;
    for (int n : elementwise_shapes()) {
        SCOPED_TRACE("n=" + std::to_string(n));
        const auto x0 = random_vec(n, seed++), y = random_vec(n, seed++);
        std::vector<float> want = x0;
        Guarded got(n);
        kern::ref::add(want.data(), y.data(), n);
        std::memcpy(got.data(), x0.data(), n * sizeof(float));
        kern::add(got.data(), y.data(), n);
        EXPECT_TRUE(close(got.data(), want.data(), n, 0.0, 0.0));
        EXPECT_TRUE(got.guards_intact());
        want = x0;
        kern::ref::mul(want.data(), y.data(), n);
        std::memcpy(got.data(), x0.data(), n * sizeof(float));
        kern::mul(got.data(), y.data(), n);
        EXPECT_TRUE(close(got.data(), want.data(), n, 0.0, 0.0));
        EXPECT_TRUE(got.guards_intact());
        // Aliased operands: x += x, x *= x.
        std::vector<float> a = x0, b = x0;
        kern::add(a.data(), a.data(), n);
        kern::ref::add(b.data(), b.data(), n);
        EXPECT_TRUE(close(a.data(), b.data(), n, 0.0, 0.0));
        a = x0, b = x0;
        kern::mul(a.data(), a.data(), n);
        kern::ref::mul(b.data(), b.data(), n);
        EXPECT_TRUE(close(a.data(), b.data(), n, 0.0, 0.0));
    }
}

}  // namespace
