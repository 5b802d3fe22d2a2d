// Quantized kernels that exist only with AVX512-VNNI (the avx512vnni bitcode, jit/engine.cpp):
// where vpdpbusd takes signed weights through an offset, the plan differs from the portable
// one in qmatvec.cpp, which every other build (and the AOT code) keeps.
#include "kernels.h"
#include "qmatvec_detail.h"
#include "qsimd.h"
#include "quant.h"

#if BF_QSIMD_VNNI
namespace bf::kern {
namespace {

using namespace quant;
using namespace qdetail;
using namespace qsimd;

// Q8_0 with VNNI on 512-bit vectors: pair_rows' plan for signed weights. vpdpbusd multiplies
// unsigned by signed bytes, so the weights enter as w + 128 (one xor, shared by the positions) and
// each activation block's -128 * sum(q_x) corrects the integer, which stays exact. Two blocks a
// vector (the activations copied side by side once per chunk), one integer a block through
// pair_sums, one conversion and FMA per 8 blocks: per position and block ~2.5 vector operations,
// not the ~6 of q8_signed (dot32's sign operations, a conversion and an FMA per block).
template <int M>
void q8_0_rows_vnni(float *out, const block_q8_0 *x, const block_q8_0 *w, int nb, int d) {
    constexpr int kEO[8] = {0, 2, 4, 6, 1, 3, 5, 7};  // pair_sums' lane order
    for (int c0 = 0; c0 < nb; c0 += kChunk) {
        const int cn = nb - c0 < kChunk ? nb - c0 : kChunk, np = (cn + 1) / 2;
        i8x64 xs[M][kChunk / 2];  // M x 8 KB: in L1 for every row of the chunk
        alignas(32) float dx[M][kChunk + 8];
        alignas(32) int32_t corr[M][kChunk + 8];
        for (int m = 0; m < M; m++) {
            const block_q8_0 *xm = x + size_t(m) * nb + c0;
            for (int p = 0; p < np; p++)  // an odd last block pairs with zeros
                xs[m][p] = join<i8x64>(load<i8x32>(xm[2 * p].qs), 2 * p + 1 < cn ? load<i8x32>(xm[2 * p + 1].qs) : i8x32(0));
            for (int g = 0; g < cn; g += 8)
                for (int k = 0; k < 8; k++) {
                    const int b = g + kEO[k];
                    dx[m][g + k] = b < cn ? h2f(xm[b].d) : 0.0f;
                    corr[m][g + k] = b < cn ? -128 * hsum_i(dot_u8(i32x8(0), u8x32(1), load<i8x32>(xm[b].qs))) : 0;
                }
        }
        for (int i = 0; i < d; i++) {
            const block_q8_0 *r = w + size_t(i) * nb + c0;
            f32x8 acc[M];
            for (int m = 0; m < M; m++) acc[m] = 0.0f;
            for (int b0 = 0; b0 < cn; b0 += 8) {
                const int nb8 = cn - b0 < 8 ? cn - b0 : 8;
                if constexpr (M == 1) prefetch_ahead(r + b0, 8 * sizeof(block_q8_0));  // memory-bound: one position
                const f32x8 dw = scales8(r + b0, nb8);  // blocks past the row's end: 0 (dx is 0 there too)
                i32x16 q[M][2];  // blocks b0 + 4h + k in 128-bit lane k of q[m][h]
                for (int h = 0; h < 2; h++) {
                    i32x16 pr[M][2];  // blocks J, J + 1: lanes 0-7, 8-15
                    for (int j = 0; j < 2; j++) {
                        const int J = 4 * h + 2 * j;
                        for (int m = 0; m < M; m++) pr[m][j] = 0;
                        if (J >= nb8) continue;
                        const i8x32 w1 = J + 1 < nb8 ? load<i8x32>(r[b0 + J + 1].qs) : i8x32(0);
                        const u8x64 wu = join<u8x64>(load<u8x32>(r[b0 + J].qs), u8x32(w1)) ^ 0x80;
                        for (int m = 0; m < M; m++) pr[m][j] = dot_u8(pr[m][j], wu, xs[m][(b0 + J) / 2]);
                    }
                    for (int m = 0; m < M; m++)  // each block's 8 lanes to 4: halves of 128-bit pairs added
                        q[m][h] = __builtin_shufflevector(pr[m][0], pr[m][1], 0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19, 24,
                                                          25, 26, 27) +
                                  __builtin_shufflevector(pr[m][0], pr[m][1], 4, 5, 6, 7, 12, 13, 14, 15, 20, 21, 22, 23,
                                                          28, 29, 30, 31);
                }
                const f32x8 dwe = __builtin_shufflevector(dw, dw, 0, 2, 4, 6, 1, 3, 5, 7);
                for (int m = 0; m < M; m++) {
                    const i32x8 s = pair_sums(q[m][0], q[m][1]) + load<i32x8>(&corr[m][b0]);
                    acc[m] += to_f32(s) * (dwe * load<f32x8>(&dx[m][b0]));
                }
            }
            for (int m = 0; m < M; m++) {
                const float part = hsum(acc[m]);
                float &o = out[size_t(m) * d + i];
                o = c0 ? o + part : part;
            }
        }
    }
}
void q8_0_positions_vnni(float *out, const void *xq, const void *w, int n, int d, int m) {
    const int nb = n / QK8_0;
    const block_q8_0 *x = static_cast<const block_q8_0 *>(xq);
    four_at_a_time(m, [&]<int M>(int p) {
        q8_0_rows_vnni<M>(out + size_t(p) * d, x + size_t(p) * nb, static_cast<const block_q8_0 *>(w), nb, d);
    });
}

}  // namespace

void matvec_q8_0(float *out, const void *xq, const void *w, int n, int d) {
    q8_0_positions_vnni(out, xq, w, n, d, 1);
}
void matmat_q8_0(float *out, const void *xq, const void *w, int n, int d, int m) {
    q8_0_positions_vnni(out, xq, w, n, d, m);
}

}  // namespace bf::kern
#endif
