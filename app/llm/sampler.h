// run.c's sampler: greedy argmax at temperature 0; otherwise logits / temperature, softmax, and a
// draw from the whole distribution (topp <= 0 or >= 1) or from the nucleus (top-p), with run.c's
// xorshift generator (random_u32 / random_f32).
#pragma once
#include <stdint.h>

#include <vector>

namespace bf::llm {

uint32_t random_u32(uint64_t &state);
float random_f32(uint64_t &state);  // [0, 1)

int sample_argmax(const float *probabilities, int n);
int sample_mult(const float *probabilities, int n, float coin);

struct ProbIndex {
    float prob;
    int index;
};
// Nucleus sampling over the smallest set of most likely tokens whose probabilities exceed topp.
// probindex: scratch of 2 * n entries (candidates, and the sort's second buffer).
int sample_topp(const float *probabilities, int n, float topp, ProbIndex *probindex, float coin);

struct Sampler {
    int vocab_size = 0;
    float temperature = 0.0f;
    float topp = 0.9f;
    uint64_t rng_state = 0;
    std::vector<ProbIndex> probindex;

    // rng_seed as run.c's -s: callers map seed <= 0 to the time, as run.c does.
    Sampler(int vocab, float temp, float top_p, uint64_t rng_seed);

    // The next token from `logits` (vocab_size values; scaled and softmaxed in place unless
    // greedy, as in run.c).
    int sample(float *logits);
};

}  // namespace bf::llm
