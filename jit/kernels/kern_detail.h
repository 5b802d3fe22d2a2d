// Internal helpers shared by kernels.cpp, sgemm.cpp and qmatvec.cpp (not part of the kernel
// interface).
//
// Compiled twice from the same source: AOT for baseline x86-64 (SSE2, -O2) and as LLVM bitcode
// (clang++ -emit-llvm with every LLVM pass deferred: -Xclang -disable-llvm-passes) that the
// in-kernel JIT optimizes at -O3 for the host CPU once shapes are bound. Hence portable C++ only: no intrinsics, no inline asm, no target attributes. Vector code comes from
// LLVM's vectorizers, which is why every reduction keeps explicit per-lane partial sums in a small
// fixed-size local array (float acc[kVec]): each lane is an independent chain, so the compiler
// maps the array onto SIMD registers without reassociating floating-point additions (no
// -ffast-math needed), and the summation order is fixed by the source (by kVec), not by whatever
// the vectorizer decides. Loop hints (BF_UNROLL, BF_LANES below) make the -O2 AOT build and the
// JIT's -O3 produce the same register-tiled code.
//
// Tuning macros (all optional; the JIT build defines them for the CPU it compiles for):
//   BF_KERN_VEC_FLOATS  lane count of the partial-sum arrays and the unit of the sgemm micro-tile
//                       width; a power of two in [4, 64]. Default 8 (two SSE2 registers, one
//                       AVX2 register). The JIT build for AVX-512 defines 16.
//   BF_KERN_GEMM_MR     sgemm micro-tile rows. Default 6.
//   BF_KERN_GEMM_NR     sgemm micro-tile columns, a multiple of 4. Default BF_KERN_VEC_FLOATS
//                       below 16, else 2 * BF_KERN_VEC_FLOATS. The defaults give 12 accumulator
//                       registers for SSE2 (6 x 8 floats, of 16 xmm) and for AVX-512 (6 x 32, of
//                       32 zmm). For AVX2 define BF_KERN_GEMM_NR=16 (6 x 16 = 12 ymm): measured
//                       ~25% faster than the default 6 x 8 there, which is sized for SSE2's 16
//                       registers of 4 floats (the AOT build cannot tell the two apart).
#pragma once
#include <stddef.h>

#ifndef BF_KERN_VEC_FLOATS
#define BF_KERN_VEC_FLOATS 8
#endif

// Loop hints. The same source goes through two pass pipelines (-O2 AOT, -O3 in the JIT; the
// bitcode was once made at -O1 too) and must vectorize well through both:
//   BF_UNROLL    on loops over tile rows / reduction steps (fixed trip count): full unrolling,
//                whatever the pipeline's own unrolling heuristics decide;
//   BF_LANES(w)  on the innermost loop over the lanes of a partial-sum array (trip count w):
//                vectorize it w wide and do not unroll it into scalars first.
// Without them the pipelines disagree: -O2 and -O3 fully unroll the lane loop into scalars and
// rely on the SLP vectorizer, which in matvec groups the rows instead of the lanes (gathers,
// 6x slower); a pipeline that unrolls nothing leaves the accumulator arrays on the stack. With the hints, the loop vectorizer turns each lane loop into one vector operation
// (w floats = 1 AVX-512 register, 2 AVX2 or 4 SSE2 registers, by type legalization) and the
// unrolled tile loops leave only constant indices, so SROA keeps the accumulators in registers:
// the same machine code whichever pipeline runs.
#define BF_PRAGMA(x) _Pragma(#x)
#if defined(__clang__)
#define BF_UNROLL BF_PRAGMA(clang loop unroll(full))
#define BF_LANES(w) BF_PRAGMA(clang loop vectorize_width(w) unroll(disable))
#elif defined(__GNUC__)
#define BF_UNROLL BF_PRAGMA(GCC unroll 64)
#define BF_LANES(w)
#else
#define BF_UNROLL
#define BF_LANES(w)
#endif

namespace bf::kern::detail {

inline constexpr int kVec = BF_KERN_VEC_FLOATS;
static_assert(kVec >= 4 && kVec <= 64 && (kVec & (kVec - 1)) == 0,
              "BF_KERN_VEC_FLOATS must be a power of two in [4, 64]");

inline constexpr int min_i(int a, int b) { return a < b ? a : b; }

// Sum of a lane array as a fixed pairwise tree (the same order for every call).
template <int N>
inline float hsum(float (&acc)[N]) {
    BF_UNROLL for (int w = N / 2; w >= 1; w /= 2)
        BF_UNROLL for (int v = 0; v < w; v++) acc[v] += acc[v + w];
    return acc[0];
}

// sum_i a[i] * b[i] with kVec independent lane sums.
inline float dot(const float *__restrict a, const float *__restrict b, int n) {
    constexpr int V = kVec;
    float acc[V] = {};
    int i = 0;
    for (; i + V <= n; i += V)
        BF_LANES(V) for (int v = 0; v < V; v++) acc[v] += a[i + v] * b[i + v];
    float s = hsum(acc);
    for (; i < n; i++) s += a[i] * b[i];
    return s;
}

// expf without a library call, branch-free so loops over it vectorize (min/max, integer shifts,
// float<->int conversion are all SSE2). Cephes' expf: x = n ln2 + r with |r| <= ln2/2 (ln2 split
// in two for an exact product), exp(r) by a degree-6 polynomial, 2^n assembled from exponent
// bits in two halves so that every n in [-151, 128] is two normal powers of two. The clamp
// bounds are chosen so the range ends need no selects: x >= 89 gives y * 2^128 > FLT_MAX = +inf,
// x <= -104.5 gives y * 2^-151 < 2^-150, which rounds to 0, and the subnormal results in between
// come out of the final multiply. Error about 1-2 ulp (more, absolute < 2^-149, for subnormal
// results). exp(+inf) = +inf, exp(-inf) = 0, exp(NaN) = NaN.
inline float exp_lanes(float x) {
    constexpr float hi = 89.0f, lo = -104.5f;
    float xc = x > hi ? hi : x;
    xc = xc >= lo ? xc : lo;  // also maps NaN to lo: the float->int conversion needs a number
    // n = round(x / ln2) with the 1.5 * 2^23 trick (round to nearest, no library call).
    constexpr float shifter = 12582912.0f;
    const float fn = (xc * 1.44269504088896341f + shifter) - shifter;
    float r = xc - fn * 0.693359375f;
    r = r - fn * -2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    const float y = p * (r * r) + r + 1.0f;
    const int n = int(fn);
    const int n1 = n >> 1, n2 = n - n1;  // each in [-76, 64]: a normal power of two
    const float s1 = __builtin_bit_cast(float, (n1 + 127) << 23);
    const float s2 = __builtin_bit_cast(float, (n2 + 127) << 23);
    const float e = y * s1 * s2;
    return x != x ? x : e;
}

// Largest element, kVec lanes. (NaN handling as in ref::softmax only when no NaN is present.)
inline float max_of(const float *__restrict x, int n) {
    constexpr int V = kVec;
    int i = 0;
    float m = x[0];
    if (n >= V) {
        float acc[V];
        BF_LANES(V) for (int v = 0; v < V; v++) acc[v] = x[v];
        for (i = V; i + V <= n; i += V)
            BF_LANES(V) for (int v = 0; v < V; v++) acc[v] = x[i + v] > acc[v] ? x[i + v] : acc[v];
        BF_UNROLL for (int w = V / 2; w >= 1; w /= 2)
            BF_UNROLL for (int v = 0; v < w; v++) acc[v] = acc[v + w] > acc[v] ? acc[v + w] : acc[v];
        m = acc[0];
    }
    for (; i < n; i++) m = x[i] > m ? x[i] : m;
    return m;
}

// x[i] = exp(x[i] - max) / sum, in place.
inline void softmax_impl(float *__restrict x, int n) {
    constexpr int V = kVec;
    const float mx = max_of(x, n);
    float acc[V] = {};
    int i = 0;
    for (; i + V <= n; i += V)
        BF_LANES(V) for (int v = 0; v < V; v++) {
            const float e = exp_lanes(x[i + v] - mx);
            x[i + v] = e;
            acc[v] += e;
        }
    float sum = hsum(acc);
    for (; i < n; i++) {
        const float e = exp_lanes(x[i] - mx);
        x[i] = e;
        sum += e;
    }
    const float inv = 1.0f / sum;
    for (i = 0; i < n; i++) x[i] *= inv;
}

// w . x for one row with C x kVec partial sums (C independent FMA chains hide the FMA latency),
// folded into one lane array at the end of the row.
template <int C>
inline float row_dot(const float *__restrict w, const float *__restrict x, int n) {
    constexpr int V = kVec;
    float acc[C][V] = {};
    int j = 0;
    for (; j + C * V <= n; j += C * V)
        BF_UNROLL for (int c = 0; c < C; c++)
            BF_LANES(V) for (int v = 0; v < V; v++) acc[c][v] += w[j + c * V + v] * x[j + c * V + v];
    BF_UNROLL for (int c = 1; c < C; c++)
        BF_LANES(V) for (int v = 0; v < V; v++) acc[0][v] += acc[c][v];
    for (; j + V <= n; j += V)
        BF_LANES(V) for (int v = 0; v < V; v++) acc[0][v] += w[j + v] * x[j + v];
    float s = hsum(acc[0]);
    for (; j < n; j++) s += w[j] * x[j];
    return s;
}

// out[i] = W[i] . x for i < d, W is d x n row-major. One row after the other, so the weights are
// read as a single sequential stream (x stays in L1). Token generation streams every weight
// from DRAM once per token, and that is what the hardware prefetchers follow best: measured on
// Zen 4 with W out of cache (768 x 32000), 25 GB/s against 11-15 GB/s for the earlier blocking
// of 4 rows at a time, which read 4 interleaved short streams (it was ~20% faster only when W
// fits in cache).
inline void matvec_impl(float *__restrict out, const float *__restrict x,
                        const float *__restrict w, int n, int d) {
    for (int i = 0; i < d; i++) out[i] = row_dot<4>(w + size_t(i) * n, x, n);
}

}  // namespace bf::kern::detail
