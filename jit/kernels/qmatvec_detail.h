// Helpers shared by the quantized-weight kernels (qmatvec.cpp, qmatvec_k.cpp, qmatvec_vnni.cpp):
// internal, not part of the kernel interface. Call-free like every kernel (the JIT compiles them from bitcode).
#pragma once
#include <stdint.h>
#include <string.h>

#include "qsimd.h"
#include "quant.h"

namespace bf::kern::qdetail {

using quant::fp16_t;

// fp16 conversions (call-free): widening by qsimd.h (F16C where the build has it), narrowing by
// quant.h's exact rounding.
using qsimd::h2f;
inline fp16_t f2h(float f) { return quant::fp32_to_fp16(f); }

// Round to nearest even for |v| < 2^22 by the 1.5 * 2^23 trick (the FPU's default rounding;
// without -ffast-math the compiler may not fold the two operations).
inline float round_even(float v) {
    constexpr float shifter = 12582912.0f;
    return (v + shifter) - shifter;
}

// Sum of 16 or 32 int8 products (a sub-block of weights, already unpacked, against activations).
template <int N>
inline int dot_i8(const int8_t *w, const int8_t *x) {
    int s = 0;
    for (int j = 0; j < N; j++) s += int(w[j]) * int(x[j]);
    return s;
}

// Activation blocks per chunk of the 32-value kernels: rows of up to 8192 values are one chunk.
constexpr int kChunk = 256;

// The fp16 scales of the (up to 8) blocks at b as fp32, 0 past the last block.
template <typename Block>
inline qsimd::f32x8 scales8(const Block *b, int n) {
    if (n == 8) return qsimd::h2f8_blocks(b);
    fp16_t dh[8] = {};
    for (int j = 0; j < n; j++) dh[j] = b[j].d;
    return qsimd::h2f8(dh);
}

// m positions, 4 at a time (as qmatvec.cpp's positions()): rows.template operator()<M>(p) takes
// positions p .. p + M - 1.
template <typename Rows>
void four_at_a_time(int m, Rows rows) {
    for (int p = 0; p < m;) {
        const int k = m - p >= 4 ? 4 : m - p;
        switch (k) {
        case 1: rows.template operator()<1>(p); break;
        case 2: rows.template operator()<2>(p); break;
        case 3: rows.template operator()<3>(p); break;
        default: rows.template operator()<4>(p); break;
        }
        p += k;
    }
}

// Token generation streams each weight matrix once from DRAM, and the hardware prefetchers alone
// leave the quantized matvecs at ~75% of the read bandwidth (their compute per byte is higher
// than fp32's): a software prefetch this far ahead of the bytes being read brings them to
// 95-100% (Q8_0 768x120000: 14.7 -> 18.5 GB/s, PREFETCH distance 512: 13-16, 1024: 14, 2048:
// 18.5, 4096: 17-19). Prefetches never fault, so reading past the end of a matrix is harmless.
// The distance is a knob (defined in kernels.cpp: 2048, 4096 in the avx512 bitcodes): a constant the JIT can set per variant
// (jit.h Variant::prefetch; the trial keeps the fastest on the CPU it runs on), folded into the
// code like any constant; the AOT code reads it once per call.
}  // namespace bf::kern::qdetail
extern "C" const size_t bf_tune_prefetch_ahead;
namespace bf::kern::qdetail {
inline void prefetch_ahead(const void *p, size_t bytes) {
    // The address as an integer: pointer arithmetic past the end of the matrix would be undefined.
    const uintptr_t a = reinterpret_cast<uintptr_t>(p) + bf_tune_prefetch_ahead;
    for (size_t k = 0; k < bytes; k += 64) __builtin_prefetch(reinterpret_cast<const void *>(a + k));
}

}  // namespace bf::kern::qdetail
