// Machine-limit probes for `bareflow bench-kernels` (not transformer kernels): the single-core
// floating-point peak and the single-core read bandwidth. Plain C++ like the other kernels, so
// the same source is built AOT (baseline SSE2: a*b+c is a mul and an add) and, through the
// embedded bitcode, JIT-compiled for the CPU found at boot (a*b+c contracts to one FMA).
//
// Peak: `acc = acc * a + b` on many independent vectors of BF_KERN_VEC_FLOATS floats, so that
// enough chains are in flight to hide the FMA latency (latency x pipes, e.g. 4 x 2 = 8 on Zen 4).
// Two widths: 12 rows fill 12 zmm/ymm registers; 6 rows fit SSE2's 16 xmm registers (6 x 8
// floats = 12 xmm) without spills. The caller takes the faster of the two.
// Flops per call: 2 * iters * rows * BF_KERN_VEC_FLOATS.
#include "kern_detail.h"
#include "peak.h"
#include "qsimd.h"

namespace {

using bf::kern::detail::kVec;

template <int kRows>
float fma_chains(long iters, float a, float b) {
    float acc[kRows][kVec];
    BF_UNROLL
    for (int r = 0; r < kRows; r++)
        for (int l = 0; l < kVec; l++) acc[r][l] = float(r * kVec + l) * 1e-3f;
    for (long it = 0; it < iters; it++) {
        BF_UNROLL
        for (int r = 0; r < kRows; r++) {
            BF_LANES(kVec)
            for (int l = 0; l < kVec; l++) acc[r][l] = acc[r][l] * a + b;
        }
    }
    float s = 0;
    for (int r = 0; r < kRows; r++)
        for (int l = 0; l < kVec; l++) s += acc[r][l];
    return s;
}

}  // namespace

extern "C" {

// The floats each peak call's rows hold, for flop counting.
int bf_peak_lanes() { return kVec; }

float bf_peak_fma12(long iters, float a, float b) { return fma_chains<12>(iters, a, b); }
float bf_peak_fma6(long iters, float a, float b) { return fma_chains<6>(iters, a, b); }

// The widest vectors the quantized kernels use in this build: 64 bytes where qsimd.h has its
// 512-bit operations, else 32.
namespace dot_peak {
using namespace bf::kern::qsimd;
#if BF_QSIMD_AVX512
typedef i32x16 Acc;
typedef i8x64 S8;
typedef u8x64 U8;
#else
typedef i32x8 Acc;
typedef i8x32 S8;
typedef u8x32 U8;
#endif
constexpr int kChains = 8;
}  // namespace dot_peak

int bf_peak_dot_macs() { return dot_peak::kChains * int(sizeof(dot_peak::U8)); }

// The bound of a prompt through integer-dot kernels: how many int8 multiply-adds a core does
// when nothing else is in the way. One u8 vector that changes every iteration (one byte add,
// shared by the chains) keeps the products from being hoisted out of the loop.
int bf_peak_dot8(long iters, int seed) {
    using namespace dot_peak;
    Acc acc[kChains];
    S8 b[kChains];
    BF_UNROLL
    for (int r = 0; r < kChains; r++) acc[r] = 0, b[r] = S8(int8_t(seed + r - 4));
    U8 a = U8(uint8_t(seed & 15));
    for (long it = 0; it < iters; it++) {
        BF_UNROLL
        for (int r = 0; r < kChains; r++) acc[r] = dot_u8(acc[r], a, b[r]);
        a += 1;
    }
    int s = 0;
    for (int r = 0; r < kChains; r++)
        for (int l = 0; l < int(sizeof(Acc) / 4); l++) s += acc[r][l];
    return s;
}

// Streaming read: the sum of n floats (any n >= 0), with 4 x kVec independent partial sums so
// the adds never limit a memory-bound loop.
float bf_read_sum(const float *p, long n) {
    constexpr int kRows = 4;
    float acc[kRows][kVec] = {};
    long blocks = n / (kRows * kVec), i = blocks * kRows * kVec;
    // Pointer increments, not p[i + ...]: with a 64-bit index expression the vectorizer built
    // vectors of addresses (gathers) and ran 5x slower than the AOT build.
    for (const float *q = p, *end = p + i; q != end; q += kRows * kVec) {
        BF_UNROLL
        for (int r = 0; r < kRows; r++) {
            const float *row = q + r * kVec;
            BF_LANES(kVec)
            for (int l = 0; l < kVec; l++) acc[r][l] += row[l];
        }
    }
    float s = 0;
    for (; i < n; i++) s += p[i];
    for (int r = 0; r < kRows; r++)
        for (int l = 0; l < kVec; l++) s += acc[r][l];
    return s;
}

}  // extern "C"
