// Kernel calls split over the pool's cores (bareflow/pool.h), for generate.cpp's forward pass:
// rows of a matmul, positions of a batch, heads of one position's attention.
#pragma once
#include <string.h>

#include <algorithm>
#include <tuple>

#include "bareflow/kernel.h"
#include "bareflow/pool.h"
#include "jit/dispatch.h"

namespace bf::llm::pool_calls {

// Splitting a matmul over the pool's cores (bareflow/pool.h). Each output element is computed by
// exactly one core with the code one core would run, so the text is the same for any number of
// threads. W's rows go in chunks, several per core, handed out by the pool's counter, so each
// core reads only its share of the weights, for one position (matvec) as for a batch (matmat,
// sgemm: a chunk's m x rows result goes to RunState::parts, then interleave() places it). The
// calls are resolved and profiled on this thread (kern::bind, jit::after_call); the cores only
// make them.
constexpr int kRowAlign = 16;      // rows per chunk: a multiple of every matvec's row step
constexpr int kChunksPerCore = 4;  // small enough chunks that a slow core does not hold the rest
constexpr int kMaxChunks = 64;

// Runs chunk i (items [i*step, min((i+1)*step, total)) as args_of(first item, items)) on the
// pool; chunks of equal size share one dispatch slot, the short last one has its own.
template <typename... P, typename ArgsOf>
void split(int total, int step, jit::Bound<P...> (*bind)(P...), ArgsOf &&args_of) {
    const int chunks = (total + step - 1) / step;
    const int tail = total - (chunks - 1) * step;
    const jit::Bound<P...> full = std::apply(bind, args_of(0, std::min(step, total)));
    const jit::Bound<P...> last = tail == step ? full : std::apply(bind, args_of((chunks - 1) * step, tail));
    uint64_t cycles[kMaxChunks];
    pool::for_each(chunks, [&](int i) {
        auto args = args_of(i * step, i == chunks - 1 ? tail : step);
        uint64_t t0 = prof::begin();
        std::apply(i == chunks - 1 ? last.fn : full.fn, args);
        cycles[i] = prof::begin() - t0;
    });
    for (int i = 0; i < chunks; i++) {
        const jit::Bound<P...> &b = i == chunks - 1 ? last : full;
        jit::after_call(b.slot, reinterpret_cast<void *>(b.fn), cycles[i]);
    }
}

// Items per chunk for `total` items on the pool's cores, a multiple of `align`; 0 when one core
// should do it all (one thread, or too little to share).
inline int chunk_size(int total, int align, int per_core) {
    const int t = pool::threads();
    if (t <= 1 || total < 2 * align) return 0;
    int step = (total + t * per_core - 1) / (t * per_core);
    step = (step + align - 1) / align * align;
    while ((total + step - 1) / step > kMaxChunks) step += align;
    return step < total ? step : 0;
}

// A batched matmul split by rows leaves chunk r0 (rows r0.., `step` of them, fewer in the last)
// as an m x rows block at parts + r0 * m; out is m x d. A copy of m x d floats, small next to the
// matmul (for each position every weight row was read).
inline void interleave(float *out, const float *parts, int m, int d, int step) {
    for (int r0 = 0; r0 < d; r0 += step) {
        const int rows = std::min(step, d - r0);
        const float *src = parts + size_t(r0) * size_t(m);
        for (int p = 0; p < m; p++) memcpy(out + size_t(p) * size_t(d) + r0, src + size_t(p) * size_t(rows), size_t(rows) * 4);
    }
}

// One call per position of a batch (the same kernel and shape), on the pool.
template <typename... P, typename ArgsOf>
void each(int n, jit::Bound<P...> (*bind)(P...), ArgsOf &&args_of) {
    split(n, 1, bind, [&](int i, int) { return args_of(i); });
}

// Attention for n positions, args_of(position, h0, h1) giving the call for heads h0..h1-1: a
// batch one position a call; token generation's one position in chunks of whole heads, one per
// core (every head does the same work), as the heads are independent.
template <typename... P, typename ArgsOf>
void attend(int n, int n_heads, jit::Bound<P...> (*bind)(P...), ArgsOf &&args_of) {
    if (n == 1) {
        const int step = chunk_size(n_heads, 1, 1);
        split(n_heads, step ? step : n_heads, bind, [&](int h0, int heads) { return args_of(0, h0, h0 + heads); });
    } else {
        each(n, bind, [&](int i) { return args_of(i, 0, n_heads); });
    }
}

}  // namespace bf::llm::pool_calls
