// libFuzzer target: load_model on arbitrary bytes; when it accepts them, run forward passes.
//
// Build, seed and run: tests/fuzz/run.sh model_fuzz SECONDS (from the repository root).
// The target is declared in tests/CMakeLists.txt (BF_FUZZ=ON); to build it alone:
//   tests/fuzz/run.sh --build   (configures build/fuzz, builds every target), then
//   cmake --build build/fuzz --target model_fuzz
// Seeds and run (2 minutes):
//   python3 tests/fuzz/make_seeds.py build/fuzz/corpus
//   build/fuzz/model_fuzz -max_total_time=120 -max_len=8192 build/fuzz/corpus/model
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <string>
#include <vector>

#include "llm/generate.h"
#include "llm/model.h"

namespace {
// Dimensions the harness lets through to the forward pass (load_model itself takes any size).
constexpr uint64_t kMaxParams = 4u << 20;
constexpr uint64_t kMaxStateBytes = 64u << 20;
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    // The loader uses the weights in place: give it a 4-byte-aligned image, as a caller must.
    std::vector<float> image((size + 3) / 4 + 1);
    if (size) memcpy(image.data(), data, size);
    bf::llm::Model m;
    std::string err;
    if (!bf::llm::load_model(image.data(), size, m, err)) {
        if (err.empty() || err.compare(0, 7, "model: ") != 0) abort();
        return 0;
    }
    const bf::llm::Config &c = m.config;
    // What load_model promises.
    if (c.dim <= 0 || c.n_heads <= 0 || c.dim % c.n_heads || c.n_kv_heads <= 0 ||
        c.n_kv_heads > c.n_heads || c.n_heads % c.n_kv_heads || c.vocab_size <= 0 ||
        c.seq_len <= 0 || c.hidden_dim <= 0 || c.n_layers <= 0 || m.bytes_needed > size)
        abort();
    if (m.n_params > kMaxParams) return 0;
    bf::llm::RunState s;
    if (!s.init(c, err, kMaxStateBytes)) return 0;
    // Positions 0 and 1 (attention over a cache of one and two), tokens from the input.
    const int positions = c.seq_len < 2 ? c.seq_len : 2;
    for (int pos = 0; pos < positions; pos++) {
        const int token = int(data[pos % size]) % c.vocab_size;
        const float *logits = bf::llm::forward(m, s, token, pos);
        if (!logits) abort();
        volatile float sink = 0;
        for (int i = 0; i < c.vocab_size; i++) sink = sink + logits[i];
        (void)sink;
    }
    if (bf::llm::forward(m, s, c.vocab_size, 0) || bf::llm::forward(m, s, 0, c.seq_len)) abort();
    // The prompt path: the same positions as one batch, all rows' logits (sgemm on every matrix).
    int tokens[2];
    for (int i = 0; i < positions; i++) tokens[i] = int(data[i % size]) % c.vocab_size;
    if (!bf::llm::forward_batch(m, s, tokens, positions, 0, true)) abort();
    volatile float sink = 0;
    for (size_t i = 0; i < size_t(positions) * size_t(c.vocab_size); i++) sink = sink + s.blogits[i];
    (void)sink;
    if (bf::llm::forward_batch(m, s, tokens, positions, c.seq_len - positions + 1, false)) abort();
    return 0;
}
