// The sampler: run.c's xorshift generator, argmax, multinomial and top-p draws.
#include <math.h>

#include <algorithm>

#include "llm/sampler.h"
#include "test_util.h"

using namespace bf::llm;

TEST(Sampler, RandomMatchesRunC) {
    // Values of run.c's random_u32 / random_f32 from state 42 (computed independently).
    uint64_t s = 42;
    EXPECT_EQ(random_u32(s), 1456360119u);
    EXPECT_EQ(random_u32(s), 3359763283u);
    s = 42;
    EXPECT_FLOAT_EQ(random_f32(s), 0.3390852212905884f);
    EXPECT_FLOAT_EQ(random_f32(s), 0.7822558283805847f);
    EXPECT_FLOAT_EQ(random_f32(s), 0.790136992931366f);
    EXPECT_FLOAT_EQ(random_f32(s), 0.9440426230430603f);
    for (int i = 0; i < 10000; i++) {
        const float f = random_f32(s);
        ASSERT_GE(f, 0.0f);
        ASSERT_LT(f, 1.0f);
    }
}

TEST(Sampler, ArgmaxAndMultinomial) {
    const float p[] = {0.1f, 0.4f, 0.4f, 0.1f};
    EXPECT_EQ(sample_argmax(p, 4), 1);  // first of equal maxima
    EXPECT_EQ(sample_mult(p, 4, 0.0f), 0);
    EXPECT_EQ(sample_mult(p, 4, 0.09f), 0);
    EXPECT_EQ(sample_mult(p, 4, 0.11f), 1);
    EXPECT_EQ(sample_mult(p, 4, 0.55f), 2);
    EXPECT_EQ(sample_mult(p, 4, 0.95f), 3);
    EXPECT_EQ(sample_mult(p, 4, 1.5f), 3);  // past the cdf: the last
}

TEST(Sampler, TopP) {
    const float p[] = {0.1f, 0.5f, 0.05f, 0.3f, 0.05f};
    std::vector<ProbIndex> scratch(10);
    // Sorted: 1 (0.5), 3 (0.3) -> cumulative 0.8 > 0.7: the nucleus is {1, 3}, r = coin * 0.8.
    EXPECT_EQ(sample_topp(p, 5, 0.7f, scratch.data(), 0.0f), 1);
    EXPECT_EQ(sample_topp(p, 5, 0.7f, scratch.data(), 0.62f), 1);  // r = 0.496 < 0.5
    EXPECT_EQ(sample_topp(p, 5, 0.7f, scratch.data(), 0.63f), 3);  // r = 0.504
    EXPECT_EQ(sample_topp(p, 5, 0.7f, scratch.data(), 0.999f), 3);
    // topp 0.85: 0.5 + 0.3 + 0.1 = 0.9 > 0.85 -> {1, 3, 0}.
    EXPECT_EQ(sample_topp(p, 5, 0.85f, scratch.data(), 0.95f), 0);
    // Never outside the nucleus.
    uint64_t s = 7;
    for (int i = 0; i < 2000; i++) {
        const int k = sample_topp(p, 5, 0.7f, scratch.data(), random_f32(s));
        ASSERT_TRUE(k == 1 || k == 3) << k;
    }
}

// A flat distribution over a real vocabulary's size keeps most tokens above the cutoff (the
// radix-sorted path): the same draws as sorting with the comparison (descending, ties in index
// order), ties included.
TEST(Sampler, TopPOverAFlatVocabularyMatchesAComparisonSort) {
    const int n = 32000;
    std::vector<float> p(static_cast<size_t>(n));
    uint64_t s = 11;
    double sum = 0;
    for (auto &x : p) sum += x = float(1 + random_u32(s) % 64);  // few distinct values: many ties
    for (auto &x : p) x = float(x / sum);
    std::vector<ProbIndex> scratch(2 * size_t(n));
    for (float topp : {0.5f, 0.9f, 0.99f}) {
        std::vector<ProbIndex> c;  // the comparison sort's nucleus
        const float cutoff = (1.0f - topp) / float(n - 1);
        for (int i = 0; i < n; i++)
            if (p[size_t(i)] >= cutoff) c.push_back({p[size_t(i)], i});
        std::sort(c.begin(), c.end(), [](const ProbIndex &a, const ProbIndex &b) {
            return a.prob > b.prob || (a.prob == b.prob && a.index < b.index);
        });
        float cum = 0;
        size_t last = c.size() - 1;
        for (size_t i = 0; i < c.size(); i++)
            if ((cum += c[i].prob) > topp) {
                last = i;
                break;
            }
        ASSERT_GT(last, size_t(1024)) << "the radix path";
        for (int k = 0; k < 200; k++) {
            const float coin = random_f32(s), r = coin * cum;
            float cdf = 0;
            int want = c[last].index;
            for (size_t i = 0; i <= last; i++)
                if (r < (cdf += c[i].prob)) {
                    want = c[i].index;
                    break;
                }
            ASSERT_EQ(sample_topp(p.data(), n, topp, scratch.data(), coin), want) << topp << " " << coin;
        }
    }
}

TEST(Sampler, DeterministicForASeed) {
    std::vector<float> logits(64);
    for (int i = 0; i < 64; i++) logits[size_t(i)] = sinf(float(i) * 0.7f) * 3.0f;
    auto draw = [&](float temp, float topp, uint64_t seed) {
        Sampler sm(64, temp, topp, seed);
        std::vector<int> out;
        for (int i = 0; i < 50; i++) {
            std::vector<float> l = logits;
            out.push_back(sm.sample(l.data()));
        }
        return out;
    };
    EXPECT_EQ(draw(0.8f, 0.9f, 1234), draw(0.8f, 0.9f, 1234));
    EXPECT_EQ(draw(1.0f, 0.0f, 1234), draw(1.0f, 0.0f, 1234));
    EXPECT_NE(draw(0.8f, 0.9f, 1234), draw(0.8f, 0.9f, 4321));
    EXPECT_NE(draw(1.0f, 0.0f, 1234), draw(1.0f, 0.5f, 1234));
    // Greedy ignores the seed and leaves the logits alone.
    const std::vector<int> g = draw(0.0f, 0.9f, 1);
    EXPECT_EQ(g, draw(0.0f, 0.9f, 99));
    EXPECT_EQ(g[0], sample_argmax(logits.data(), 64));
    // Low temperature with top-p concentrates on a clear maximum.
    logits[17] = 10.0f;
    int hits = 0;
    for (int k : draw(0.05f, 0.9f, 5)) hits += k == 17;
    EXPECT_EQ(hits, 50);
    // The first draw follows run.c's recipe: scale, softmax, coin from random_f32.
    Sampler sm(64, 1.0f, 0.0f, 1234);
    std::vector<float> l = logits;
    const int first = sm.sample(l.data());
    uint64_t st = 1234;
    EXPECT_EQ(first, sample_mult(l.data(), 64, random_f32(st)));  // l now holds the probabilities
}

// A temperature whose division overflows (the validator lets any finite t >= 0 through) samples
// its t -> 0 limit, the argmax, instead of drawing from a NaN softmax.
TEST(Sampler, TinyTemperatureIsGreedy) {
    for (float t : {1e-45f, 1e-40f}) {
        Sampler s(4, t, 0.9f, 42);
        for (int i = 0; i < 20; i++) {
            float logits[] = {1.0f, 3.0f, -2.0f, 2.5f};
            EXPECT_EQ(s.sample(logits), 1) << t;
        }
    }
    // An ordinary small temperature still samples (and stays near the argmax).
    Sampler s(4, 0.01f, 0.0f, 42);
    float logits[] = {1.0f, 3.0f, -2.0f, 2.5f};
    EXPECT_EQ(s.sample(logits), 1);
}
