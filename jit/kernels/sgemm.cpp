// sgemm: C = A * B or C = A * B^T, fp32, row-major (contract in kernels.h).
//
// Vector width / tile size: the MR x NR register tile follows the macro BF_KERN_VEC_FLOATS
// (default 8; the JIT build defines 16 for AVX-512): NR = BF_KERN_VEC_FLOATS below 16, else
// twice it; MR = 6. BF_KERN_GEMM_MR / BF_KERN_GEMM_NR override them (AVX2: NR = 16). Portable
// C++ written for LLVM's vectorizers, see kern_detail.h. The structure is the classic
// GotoBLAS/BLIS one:
//
//   for jc in N by NC:                 B panel  KC x NC  packed into NR-wide slivers  (L3 / L2)
//     for pc in K by KC:
//       pack B(pc.., jc..)
//       for ic in M by MC:             A block  MC x KC  packed into MR-tall slivers  (L2)
//         pack A(ic.., pc..)
//         for ir in MC by MR:          one A sliver MR x KC (6 KiB) stays in L1
//           for jr in NC by NR:        micro-kernel: MR x NR accumulators in registers,
//             C(ir, jr) (+)= Ap * Bp   one rank-1 update per k step; B slivers stream from L2
//
// (The A sliver in L1 and B from L2, not the other way round: a KC x NR B sliver is 32 KiB with
// AVX-512's NR = 32, all of Zen 4's L1D. Measured at 1024^3 on Zen 4, JIT: 93 -> 105 GFLOPS
// with AVX-512, 84 -> 101 with AVX2; SSE2 AOT unchanged within 3%.)
//
// Packing pads edge slivers with zeros, so the micro-kernel always runs a full MR x NR tile and
// only its final store is clipped: any m, n, k >= 1 works. The transposed case differs only in
// how B is packed. The packing buffers are static arrays of bounded size (no heap): sgemm is not
// re-entrant (single-threaded use). m == 1 (one token) bypasses packing: a matvec (trans_b) or
// a row-combination (plain B); so does trans_b with m <= 64 (a prompt batch: gemm_nt_direct).
#include "kernels.h"
#include "kern_detail.h"

namespace bf::kern {
namespace {

using detail::kVec;
using detail::min_i;

#ifdef BF_KERN_GEMM_MR
constexpr int MR = BF_KERN_GEMM_MR;
#else
constexpr int MR = 6;
#endif
#ifdef BF_KERN_GEMM_NR
constexpr int NR = BF_KERN_GEMM_NR;
#else
constexpr int NR = kVec >= 16 ? 2 * kVec : kVec;
#endif
static_assert(MR >= 1 && MR <= 16 && NR >= 4 && NR <= 64 && NR % 4 == 0, "bad sgemm tile");

// Cache blocking. An MR x KC sliver of A (6 KiB) sits in L1 while it meets every B sliver; the
// MC x KC block of A (~96 KiB) and the KC x NC panel of B (512 KiB) in L2. Static buffers:
// ~610 KiB of .bss.
constexpr int KC = 256;
constexpr int MC = (96 + MR - 1) / MR * MR;
constexpr int NC = (512 + NR - 1) / NR * NR;

alignas(64) float a_pack[MC * KC];
alignas(64) float b_pack[KC * NC];

// A block (mc x kc, row stride lda) into MR-row slivers: ap[s][p][i] = A[s*MR + i][p].
void pack_a(float *__restrict ap, const float *__restrict a, size_t lda, int mc, int kc) {
    for (int i0 = 0; i0 < mc; i0 += MR, ap += size_t(MR) * kc) {
        const float *as = a + i0 * lda;
        if (mc - i0 >= MR) {
            for (int p = 0; p < kc; p++)
                for (int i = 0; i < MR; i++) ap[p * MR + i] = as[i * lda + p];
        } else {
            const int mr = mc - i0;
            for (int p = 0; p < kc; p++)
                for (int i = 0; i < MR; i++) ap[p * MR + i] = i < mr ? as[i * lda + p] : 0.0f;
        }
    }
}

// B panel (kc x nc) into NR-column slivers: bp[s][p][j] = B(p, s*NR + j), B(p, j) being
// b[p*ldb + j] (plain) or b[j*ldb + p] (trans_b).
void pack_b(float *__restrict bp, const float *__restrict b, size_t ldb, int kc, int nc,
            bool trans_b) {
    for (int j0 = 0; j0 < nc; j0 += NR, bp += size_t(NR) * kc) {
        const int nr = min_i(NR, nc - j0);
        if (!trans_b) {
            const float *bs = b + j0;
            if (nr == NR) {
                for (int p = 0; p < kc; p++)
                    for (int j = 0; j < NR; j++) bp[p * NR + j] = bs[p * ldb + j];
            } else {
                for (int p = 0; p < kc; p++)
                    for (int j = 0; j < NR; j++) bp[p * NR + j] = j < nr ? bs[p * ldb + j] : 0.0f;
            }
        } else {
            const float *bs = b + j0 * ldb;
            for (int j = 0; j < nr; j++)
                for (int p = 0; p < kc; p++) bp[p * NR + j] = bs[j * ldb + p];
            for (int j = nr; j < NR; j++)
                for (int p = 0; p < kc; p++) bp[p * NR + j] = 0.0f;
        }
    }
}

// The register tile: acc[MR][NR] += Ap[p][:] (outer) Bp[p][:] for p < kc, then C = acc
// (first k block) or C += acc. Only constant-index accesses touch acc, so it is promoted to
// registers; clipped tiles go through a temporary.
void micro_kernel(int kc, const float *__restrict ap, const float *__restrict bp,
                  float *__restrict c, size_t ldc, int mr, int nr, bool accumulate) {
    float acc[MR][NR] = {};
    for (int p = 0; p < kc; p++) {
        const float *__restrict a = ap + p * MR;
        const float *__restrict b = bp + p * NR;
        BF_UNROLL for (int i = 0; i < MR; i++)
            BF_LANES(NR) for (int j = 0; j < NR; j++) acc[i][j] += a[i] * b[j];
    }
    if (mr == MR && nr == NR) {
        if (accumulate) {
            BF_UNROLL for (int i = 0; i < MR; i++)
                BF_LANES(NR) for (int j = 0; j < NR; j++) c[i * ldc + j] += acc[i][j];
        } else {
            BF_UNROLL for (int i = 0; i < MR; i++)
                BF_LANES(NR) for (int j = 0; j < NR; j++) c[i * ldc + j] = acc[i][j];
        }
        return;
    }
    float tmp[MR][NR];
    BF_UNROLL for (int i = 0; i < MR; i++)
        BF_LANES(NR) for (int j = 0; j < NR; j++) tmp[i][j] = acc[i][j];
    for (int i = 0; i < mr; i++)
        for (int j = 0; j < nr; j++) c[i * ldc + j] = (accumulate ? c[i * ldc + j] : 0.0f) + tmp[i][j];
}

// m == 1, plain B: c[j] = sum_p a[p] * b[p*n + j], four rows of B per pass over c.
void row_times_matrix(float *__restrict c, const float *__restrict a, const float *__restrict b,
                      int n, int k) {
    {  // the first row initializes c (no zeroing pass), k >= 1
        const float a0 = a[0];
        for (int j = 0; j < n; j++) c[j] = a0 * b[j];
    }
    int p = 1;
    for (; p + 4 <= k; p += 4) {
        const float a0 = a[p], a1 = a[p + 1], a2 = a[p + 2], a3 = a[p + 3];
        const float *__restrict b0 = b + size_t(p) * n;
        const float *__restrict b1 = b0 + n;
        const float *__restrict b2 = b1 + n;
        const float *__restrict b3 = b2 + n;
        for (int j = 0; j < n; j++) c[j] += a0 * b0[j] + a1 * b1[j] + a2 * b2[j] + a3 * b3[j];
    }
    for (; p < k; p++) {
        const float ap = a[p];
        const float *__restrict bp = b + size_t(p) * n;
        for (int j = 0; j < n; j++) c[j] += ap * bp[j];
    }
}

// trans_b with few rows of A (a prompt batch times a weight matrix, B = W being n x k): C[i][j] =
// A[i] . W[j] as MI x NJ dot products at once, no packing. Each W row is read from memory once
// (its NJ-row group stays in L1 while every MI-row group of A, kept in L2, passes by); MI x NJ
// lane arrays are the register tile. Packing would copy (and transpose) all of W for a few
// rows of A: measured on Zen 4 (AVX-512 JIT), m = 32 x 2048 x 768: 54 GFLOPS packed, 83 here.
constexpr int kDirectMaxM = 64;
constexpr int DMI = kVec >= 16 ? 4 : 2;  // 12 accumulator registers: AVX-512 4 x 3 of 16 lanes,
constexpr int DNJ = 3;                    // AVX2 2 x 3 of 8 (SSE2: 2 registers each, 24 of 16)

template <int MI, int NJ>
inline void dot_tile(float *__restrict c, size_t ldc, const float *__restrict a,
                     const float *__restrict b, int k) {
    constexpr int V = kVec;
    float acc[MI][NJ][V] = {};
    int p = 0;
    for (; p + V <= k; p += V)
        BF_UNROLL for (int i = 0; i < MI; i++)
            BF_UNROLL for (int j = 0; j < NJ; j++)
                BF_LANES(V) for (int v = 0; v < V; v++)
                    acc[i][j][v] += a[size_t(i) * k + p + v] * b[size_t(j) * k + p + v];
    BF_UNROLL for (int i = 0; i < MI; i++)
        BF_UNROLL for (int j = 0; j < NJ; j++) {
            float s = detail::hsum(acc[i][j]);
            for (int q = p; q < k; q++) s += a[size_t(i) * k + q] * b[size_t(j) * k + q];
            c[size_t(i) * ldc + j] = s;
        }
}

template <int NJ>
void dot_rows(float *c, const float *a, const float *b, int m, int n, int k) {
    int i = 0;
    for (; i + DMI <= m; i += DMI) dot_tile<DMI, NJ>(c + size_t(i) * n, size_t(n), a + size_t(i) * k, b, k);
    for (; i < m; i++) dot_tile<1, NJ>(c + size_t(i) * n, size_t(n), a + size_t(i) * k, b, k);
}

void gemm_nt_direct(float *c, const float *a, const float *b, int m, int n, int k) {
    int j = 0;
    for (; j + DNJ <= n; j += DNJ) dot_rows<DNJ>(c + j, a, b + size_t(j) * k, m, n, k);
    for (; j < n; j++) dot_rows<1>(c + j, a, b + size_t(j) * k, m, n, k);
}

}  // namespace

void sgemm(float *c, const float *a, const float *b, int m, int n, int k, bool trans_b) {
    if (m <= 0 || n <= 0) return;
    if (k <= 0) {
        for (size_t i = 0; i < size_t(m) * n; i++) c[i] = 0.0f;
        return;
    }
    if (m == 1) {
        if (trans_b) detail::matvec_impl(c, a, b, k, n);  // c[j] = B[j] . a, B is n x k
        else row_times_matrix(c, a, b, n, k);
        return;
    }
    if (trans_b && m <= kDirectMaxM) {
        gemm_nt_direct(c, a, b, m, n, k);
        return;
    }
    const size_t ldb = trans_b ? size_t(k) : size_t(n);
    for (int jc = 0; jc < n; jc += NC) {
        const int nc = min_i(NC, n - jc);
        for (int pc = 0; pc < k; pc += KC) {
            const int kc = min_i(KC, k - pc);
            const float *bsrc = trans_b ? b + size_t(jc) * ldb + pc : b + size_t(pc) * ldb + jc;
            pack_b(b_pack, bsrc, ldb, kc, nc, trans_b);
            for (int ic = 0; ic < m; ic += MC) {
                const int mc = min_i(MC, m - ic);
                pack_a(a_pack, a + size_t(ic) * k + pc, size_t(k), mc, kc);
                for (int ir = 0; ir < mc; ir += MR)
                    for (int jr = 0; jr < nc; jr += NR)
                        micro_kernel(kc, a_pack + size_t(ir) * kc, b_pack + size_t(jr) * kc,
                                     c + size_t(ic + ir) * n + jc + jr, size_t(n),
                                     min_i(MR, mc - ir), min_i(NR, nc - jr), pc > 0);
            }
        }
    }
}

}  // namespace bf::kern
