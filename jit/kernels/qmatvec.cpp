// Kernels over quantized (GGUF) weights and the fp16 KV cache: the registry rows after the fp32
// ones in kernels.def. Portable C++ like the other kernels (kern_detail.h), no library calls:
// the JIT compiles them too. Correct first: per-block integer dot products in plain loops that
// LLVM vectorizes; the register-blocked versions are the quantized-kernels issue.
//
// Numerics follow llama.cpp's CPU backend (the reference texts in ../shared come from it): the
// activations are quantized once per matvec to Q8_0 or Q8_1 (or rounded to fp16 / bf16 for F16 /
// BF16 weights), each block's integer sum is scaled by the product of the two fp16 scales (plus
// the min term of Q4_1/Q5_1), and blocks are summed in fp32. The K-quants: qmatvec_k.cpp. The order of that final sum differs from llama.cpp's SIMD order (as its AVX2 and
// AVX-512 builds differ from each other); the shared texts do not depend on it.
#include "kern_detail.h"
#include "kernels.h"
#include "qmatvec_detail.h"
#include "qsimd.h"
#include "quant.h"

#include <math.h>
#include <string.h>

namespace bf::kern {
namespace {

using quant::block_q4_0;
using quant::block_q5_0;
using quant::block_q8_0;
using quant::block_q4_1;
using quant::block_q5_1;
using quant::block_q8_1;
using quant::fp16_t;
using quant::QK8_0;
using namespace qdetail;
using namespace qsimd;
using qsimd::h2f;

// Row by row (each row one sequential stream, as for fp32 matvec), block by block, in llama.cpp's
// AVX2 order (ggml_vec_dot_q*_q8_*), so that JIT code on an AVX2 CPU computes the same floats as
// the llama.cpp builds behind the shared reference texts:
//   acc (8 lanes) += (d_w * d_x) * float(8 int32 partial sums of the block);  s += c_w * c_x
//   result = hsum(acc) + s
// `values(wb)` unpacks a weight block once (its 32 values as bytes), `isum(v, xb)` gives their
// 8 partial sums against an activation block; c_w * c_x is the min term of Q4_1/Q5_1 (the
// weights' m times the activations' s; 0 for the others). d_x in fp32 (and c_x) is converted
// once per call for a chunk of kChunk blocks (qmatvec_detail.h) and shared by every row.
//
// M positions at once (the prompt path: matmat_*): each weight block is read and unpacked once
// for all M activation rows, each position computed exactly as alone. out[m * d + i] is row i of
// position m.
template <typename Block, typename XBlock>
struct Blocks {
    const Block *w;
    const XBlock *x;  // position m's block b: x[m * nb + b]
    int nb, d;
};

// Q4_1/Q5_1 have a min (and the scalar term); the others none.
template <typename Block>
constexpr bool kMin = requires(const Block &b) { b.m; };

// One row after the other (one sequential stream: two interleaved rows were as fast in cache but
// streamed 35-45% slower from DRAM, which is what token generation does - the fp32 matvec's
// finding again, kern_detail.h), M positions per pass over the row, each (row, position) its own
// accumulator chain in llama.cpp's order. The block scales d_w * d_x are formed 8 blocks at a
// time (8 fp16 d_w widened by one conversion, one vector multiply per position; the same IEEE
// products as one at a time) and each block reads its scale from that small array.
template <int M, typename Block, typename XBlock, typename Values, typename ISum, typename XTerm, typename WTerm>
void rows_m(float *out, const Blocks<Block, XBlock> &a, Values values, ISum isum, XTerm xterm, WTerm wterm) {
    for (int c0 = 0; c0 < a.nb; c0 += kChunk) {
        const int cn = a.nb - c0 < kChunk ? a.nb - c0 : kChunk;
        float dx[M][kChunk + 8], cx[M][kChunk];
        for (int m = 0; m < M; m++) {
            for (int b = 0; b < cn; b++) {
                const XBlock &xb = a.x[size_t(m) * a.nb + c0 + b];
                dx[m][b] = h2f(xb.d);
                cx[m][b] = xterm(xb);
            }
            for (int b = cn; b < cn + 8; b++) dx[m][b] = 0.0f;  // the last group's unused lanes
        }
        for (int i = 0; i < a.d; i++) {
            const Block *r = a.w + size_t(i) * a.nb + c0;
            f32x8 acc[M];
            float scalar[M];
            for (int m = 0; m < M; m++) acc[m] = 0.0f, scalar[m] = 0.0f;
            for (int b0 = 0; b0 < cn; b0 += 8) {
                const int nb8 = cn - b0 < 8 ? cn - b0 : 8;
                if constexpr (M == 1) prefetch_ahead(r + b0, 8 * sizeof(Block));  // memory-bound: one position
                const f32x8 dw = scales8(r + b0, nb8);
                float scale[M][8];
                for (int m = 0; m < M; m++) {
                    const f32x8 sc = dw * load<f32x8>(&dx[m][b0]);
                    memcpy(scale[m], &sc, sizeof sc);
                }
                for (int j = 0; j < nb8; j++) {
                    const int b = b0 + j;
                    const auto v = values(r[b]);
                    const float cw = wterm(r[b]);
                    for (int m = 0; m < M; m++) {
                        const XBlock &xb = a.x[size_t(m) * a.nb + c0 + b];
                        acc[m] += to_f32(isum(v, xb)) * scale[m][j];
                        if constexpr (kMin<Block>) scalar[m] += cw * cx[m][b];
                    }
                }
            }
            for (int m = 0; m < M; m++) {
                const float part = hsum(acc[m]) + scalar[m];
                float &o = out[size_t(m) * a.d + i];
                o = c0 ? o + part : part;
            }
        }
    }
}

// m positions, 4 at a time (a register tile of AVX2's 16 ymm: 4 accumulators, the block, temps).
template <typename Block, typename XBlock, typename... F>
void positions(float *out, const void *xq, const void *w, int n, int d, int m, F... f) {
    const int nb = n / QK8_0;
    for (int p = 0; p < m;) {
        const Blocks<Block, XBlock> a{static_cast<const Block *>(w), static_cast<const XBlock *>(xq) + size_t(p) * nb,
                                      nb, d};
        float *o = out + size_t(p) * d;
        switch (m - p) {
        case 1: rows_m<1>(o, a, f...); p += 1; break;
        case 2: rows_m<2>(o, a, f...); p += 2; break;
        case 3: rows_m<3>(o, a, f...); p += 3; break;
        default: rows_m<4>(o, a, f...); p += 4; break;
        }
    }
}

// Q8_0 against Q8_0: the weights' signed values . x, no scalar term.
template <typename Block, typename Values>
void q8_signed(float *out, const void *xq, const void *w, int n, int d, int m, Values values) {
    positions<Block, block_q8_0>(
        out, xq, w, n, d, m, values, [](i8x32 v, const block_q8_0 &xb) { return dot32(v, load<i8x32>(xb.qs)); },
        [](const block_q8_0 &) { return 0.0f; }, [](const Block &) { return 0.0f; });
}

// Q4_1/Q5_1 against Q8_1: unsigned values . x, plus the min term m_w * s_x.
template <typename Block, typename Values>
void q8_min(float *out, const void *xq, const void *w, int n, int d, int m, Values values) {
    positions<Block, block_q8_1>(
        out, xq, w, n, d, m, values,
        [](u8x32 v, const block_q8_1 &xb) { return dot_u8(i32x8(0), v, load<i8x32>(xb.qs)); },
        [](const block_q8_1 &xb) { return h2f(xb.s); }, [](const Block &wb) { return h2f(wb.m); });
}

// 32 values of 4 bits, or 5 with bit 4 from qh (bit j for value j).
inline u8x32 values4(const uint8_t *qs) { return nibbles(qs); }
inline u8x32 values5(const uint8_t *qs, const uint8_t *qh) {
    uint32_t h;
    memcpy(&h, qh, 4);
    return nibbles(qs) | bits_to_bytes(h, 16);
}

// Q8_0's d and q for one block of 32 (x86: d = amax / 127, q = x * (127 / amax) to nearest even);
// returns d before its fp16 rounding, which Q8_1's s uses.
float quantize_block_q8(const float *x, fp16_t &d, int8_t *qs) {
    float amax = 0.0f;
    for (int j = 0; j < QK8_0; j++) {
        const float a = x[j] < 0 ? -x[j] : x[j];
        amax = a > amax ? a : amax;
    }
    const float id = amax != 0.0f ? 127.0f / amax : 0.0f;
    const float df = amax / 127.0f;
    d = f2h(df);
    for (int j = 0; j < QK8_0; j++) qs[j] = quant::to_q8(round_even(x[j] * id));
    return df;
}

}  // namespace

void quantize_q8_0(void *y, const float *x, int n) {
    block_q8_0 *out = static_cast<block_q8_0 *>(y);
    for (int i = 0; i < n / QK8_0; i++, x += QK8_0) quantize_block_q8(x, out[i].d, out[i].qs);
}

void quantize_q8_1(void *y, const float *x, int n) {
    block_q8_1 *out = static_cast<block_q8_1 *>(y);
    for (int i = 0; i < n / QK8_0; i++, x += QK8_0) {
        const float df = quantize_block_q8(x, out[i].d, out[i].qs);
        int sum = 0;
        for (int j = 0; j < QK8_0; j++) sum += out[i].qs[j];
        out[i].s = f2h(df * float(sum));  // llama.cpp's x86 path: the unrounded d times the int sum
    }
}

// Q4_0, two blocks per step, for M positions (1: token generation; 2-4: a prompt's positions,
// each weight pair unpacked once for all of them). The generic path spends ~14 vector operations
// a block (llvm-mca, znver3: 4.1 cycles), half of them turning 16 packed bytes into 32 signed
// values in order (shift, lane insert, mask, -8, two sign operations), which bounds token
// generation by compute, not by memory. Here the 32 packed bytes of blocks 2p and 2p+1 are masked
// and shifted as they lie, low nibbles [b 0-15 | b+1 0-15] and high nibbles [b 16-31 | b+1 16-31],
// against an activation copy laid out the same way once per call; the unsigned nibbles go straight
// into the byte multiply. Per 8 blocks, pair_sums turns the four pairs' partial sums into one
// integer a block, the -8 enters as the integer -8 * sum(q_x) of each activation block (exact:
// the block's integer dot product is sum(q_w * q_x) - 8 * sum(q_x)), and one conversion and one FMA
// scale all 8 by d_w * d_x: one accumulator chain of n / 256 FMAs a row instead of a vector
// shuffle, conversion and FMA a pair (in cache 17.3 -> 21.0 GB/s, docs/kernels.md). Each position is
// computed exactly as alone (the same chunks, the same order), so a prompt's positions get the
// values token generation would. The sums differ from llama.cpp's vec_dot order (llama.cpp itself
// repacks Q4_0 for its GEMV and GEMM), within rounding: each block's integer is exact in both.
//
// Q5_0 takes the same path: values 0..31 (bit 4 from qh: bit j for value j) and -16. Its byte
// products still fit: 2 * 31 * 127 per pair of bytes, two such sums per int16 lane, 15748.
//
// Q4_0_X8 (kX8: Q4_0 regrouped at load, quant.h block_q4_0x8) is the same computation on the
// layout made for it: a group's 8 scales are one 16-byte load in pair_sums' lane order, and two
// blocks' nibbles one 32-byte load (no gather of scales 18 bytes apart, no lane insert).
constexpr bool same_order(const int (&a)[8], const int (&b)[8]) {
    for (int k = 0; k < 8; k++)
        if (a[k] != b[k]) return false;
    return true;
}
template <int M, typename Block, bool kX8 = false>
void pair_rows(float *out, const block_q8_0 *x, const Block *w, int nb, int d) {
    constexpr bool kQ5 = requires(const Block &b) { b.qh; };
    static_assert(!kX8 || !kQ5);
    constexpr int kOffset = kQ5 ? 16 : 8;
    constexpr int kEO[8] = {0, 2, 4, 6, 1, 3, 5, 7};  // the block in lane k of a group of 8 (pair_sums' order)
    static_assert(same_order(kEO, quant::kQ4_0X8Order), "block_q4_0x8 keeps its scales in this lane order");
    for (int c0 = 0; c0 < nb; c0 += kChunk) {
        const int cn = nb - c0 < kChunk ? nb - c0 : kChunk, np = (cn + 1) / 2;
        i8x32 xlo[M][kChunk / 2], xhi[M][kChunk / 2];  // M x 8 KB: in L1 for every row of the chunk
        alignas(32) float dx[M][kChunk + 8];
        alignas(32) int32_t corr[M][kChunk + 8];
        for (int m = 0; m < M; m++) {
            const block_q8_0 *xm = x + size_t(m) * nb + c0;
            for (int p = 0; p < np; p++) {  // an odd last block pairs with zeros
                const i8x32 a = load<i8x32>(xm[2 * p].qs), b = 2 * p + 1 < cn ? load<i8x32>(xm[2 * p + 1].qs) : i8x32(0);
                xlo[m][p] = __builtin_shufflevector(a, b, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 32, 33, 34,
                                                    35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47);
                xhi[m][p] = __builtin_shufflevector(a, b, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31,
                                                    48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63);
            }
            for (int g = 0; g < cn; g += 8)
                for (int k = 0; k < 8; k++) {
                    const int b = g + kEO[k];
                    dx[m][g + k] = b < cn ? h2f(xm[b].d) : 0.0f;
                    corr[m][g + k] = b < cn ? -kOffset * hsum_i(sum_pairs(mul_pairs(u8x32(1), load<i8x32>(xm[b].qs)))) : 0;
                }
        }
        for (int i = 0; i < d; i++) {
            const Block *r = w + size_t(i) * nb + c0;
            f32x8 acc[M];
            for (int m = 0; m < M; m++) acc[m] = 0.0f;
            // Blocks b0 + J and b0 + J + 1 (J even; the second a zero block past the row's end)
            // against activation pair (b0 + J) / 2: lanes 0-3 block J, 4-7 block J + 1.
            // Group b0 of a regrouped row starts where its first block would (the same bytes).
            auto group_x8 = [&](int b0) { return reinterpret_cast<const quant::block_q4_0x8 *>(r + b0); };
            auto pair = [&](int b0, int J, bool two, i32x8 (&p)[M][4]) {
                u8x32 q;
                if constexpr (kX8) {
                    q = load<u8x32>(group_x8(b0)->qs[J]);
                } else {
                    const u8x16 q0 = load<u8x16>(r[b0 + J].qs), q1 = two ? load<u8x16>(r[b0 + J + 1].qs) : u8x16(0);
                    q = __builtin_shufflevector(q0, q1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18,
                                                19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31);
                }
                u8x32 lo = q & 15, hi = q >> 4;
                if constexpr (kQ5) {  // bits 0-15 of each block's qh go with its low nibbles, 16-31 with the high
                    uint32_t h0, h1 = 0;
                    memcpy(&h0, r[b0 + J].qh, 4);
                    if (two) memcpy(&h1, r[b0 + J + 1].qh, 4);
                    lo |= bits_to_bytes((h0 & 0xFFFFu) | h1 << 16, 16);
                    hi |= bits_to_bytes(h0 >> 16 | (h1 & 0xFFFF0000u), 16);
                }
                const int pi = (b0 + J) / 2;
                for (int m = 0; m < M; m++) p[m][J / 2] = dot_u8_2(i32x8(0), lo, xlo[m][pi], hi, xhi[m][pi]);
            };
#if BF_QSIMD_AVX512
            // 512 bits: four blocks a vector, against the activation copies of two pairs, which
            // lie side by side (the same integers as pair(), so the same result to the bit).
            auto group_512 = [&](int b0) {
                const quant::block_q4_0x8 *g = group_x8(b0);
                i32x16 p[M][2];
                for (int h = 0; h < 2; h++) {
                    const u8x64 q = load<u8x64>(g->qs[4 * h]);
                    const u8x64 lo = q & 15, hi = q >> 4;
                    const int pi = (b0 + 4 * h) / 2;
                    for (int m = 0; m < M; m++)
                        p[m][h] = dot_u8_2(i32x16(0), lo, load<i8x64>(&xlo[m][pi]), hi, load<i8x64>(&xhi[m][pi]));
                }
                const f32x8 dw = h2f8(g->d);
                for (int m = 0; m < M; m++) {
                    const i32x8 s = pair_sums(p[m][0], p[m][1]) + load<i32x8>(&corr[m][b0]);
                    acc[m] += to_f32(s) * (dw * load<f32x8>(&dx[m][b0]));
                }
            };
#endif
            auto group = [&](int b0, int nb8) {
#if BF_QSIMD_AVX512
                if constexpr (kX8) return group_512(b0);  // nb8 == 8: rows of whole groups
#endif
                f32x8 dw;
                if constexpr (kX8) {
                    dw = h2f8(group_x8(b0)->d);  // nb8 == 8: rows of whole groups
                } else if (nb8 == 8) {
                    dw = h2f8_blocks<Block, true>(r + b0);
                } else {
                    fp16_t dh[8] = {};
                    for (int k = 0; k < 8; k++)
                        if (kEO[k] < nb8) dh[k] = r[b0 + kEO[k]].d;
                    dw = h2f8(dh);
                }
                i32x8 p[M][4];
                for (int J = 0; J < 8; J += 2) {
                    if (J < nb8) {
                        pair(b0, J, J + 1 < nb8, p);
                    } else {
                        for (int m = 0; m < M; m++) p[m][J / 2] = 0;
                    }
                }
                for (int m = 0; m < M; m++) {
                    const i32x8 s = pair_sums(p[m][0], p[m][1], p[m][2], p[m][3]) + load<i32x8>(&corr[m][b0]);
                    acc[m] += to_f32(s) * (dw * load<f32x8>(&dx[m][b0]));
                }
            };
            int b0 = 0;
            for (; b0 + 8 <= cn; b0 += 8) {
                if constexpr (M == 1) prefetch_ahead(r + b0, 8 * sizeof(Block));  // memory-bound: one position
                group(b0, 8);
            }
            if (b0 < cn) group(b0, cn - b0);
            for (int m = 0; m < M; m++) {
                const float part = hsum(acc[m]);
                float &o = out[size_t(m) * d + i];
                o = c0 ? o + part : part;
            }
        }
    }
}

// Each 32-value type once, for one position (matvec) and for m (matmat).
#define BF_Q32(type, ...)                                                                     \
    void matvec_##type(float *out, const void *xq, const void *w, int n, int d) {             \
        const int m = 1;                                                                      \
        __VA_ARGS__;                                                                          \
    }                                                                                         \
    void matmat_##type(float *out, const void *xq, const void *w, int n, int d, int m) { __VA_ARGS__; }
#if !BF_QSIMD_VNNI  // with VNNI: qmatvec_vnni.cpp
BF_Q32(q8_0, q8_signed<block_q8_0>(out, xq, w, n, d, m, [](const block_q8_0 &b) { return load<i8x32>(b.qs); }))
#endif

template <typename Block, bool kX8 = false>
void pair_positions(float *out, const void *xq, const void *w, int n, int d, int m) {
    const int nb = n / QK8_0;
    const block_q8_0 *x = static_cast<const block_q8_0 *>(xq);
    four_at_a_time(m, [&]<int M>(int p) {
        pair_rows<M, Block, kX8>(out + size_t(p) * d, x + size_t(p) * nb, static_cast<const Block *>(w), nb, d);
    });
}
BF_Q32(q4_0, pair_positions<block_q4_0>(out, xq, w, n, d, m))
BF_Q32(q4_0x8, (pair_positions<block_q4_0, true>(out, xq, w, n, d, m)))
BF_Q32(q5_0, pair_positions<block_q5_0>(out, xq, w, n, d, m))
BF_Q32(q4_1, q8_min<block_q4_1>(out, xq, w, n, d, m, [](const block_q4_1 &b) { return values4(b.qs); }))
BF_Q32(q5_1, q8_min<block_q5_1>(out, xq, w, n, d, m, [](const block_q5_1 &b) { return values5(b.qs, b.qh); }))
#undef BF_Q32

// bf16 is the top half of an fp32: widening is a shift; narrowing rounds to nearest even and
// keeps NaN a quiet NaN (quant.h's fp32_to_bf16, which the unit tests compare against).
void to_bf16(void *y, const float *x, int n) {
    uint16_t *h = static_cast<uint16_t *>(y);
    for (int i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, &x[i], 4);
        h[i] = (u & 0x7fffffffu) > 0x7f800000u ? uint16_t((u >> 16) | 0x40) : uint16_t((u + 0x7fffu + ((u >> 16) & 1)) >> 16);
    }
}

// The fp16/bf16 matvecs and matmats, in llama.cpp's order (ggml_vec_dot_f16 with F16C): four
// chains of 8 lanes over 32 values at a time, folded (c0 + c2) + (c1 + c3), the 8 lanes summed
// as (l0 + l4 + l1 + l5) + (l2 + l6 + l3 + l7) (two horizontal adds), then the last n % 32 values
// one by one in double. `wide(p)` widens 8 values at p, `narrow` one. M positions share each
// widened weight vector, each computed exactly as alone.
template <int M, typename Wide, typename Narrow>
void half_rows(float *out, const uint16_t *x, const uint16_t *w, int n, int d, Wide wide, Narrow narrow) {
    for (int i = 0; i < d; i++) {
        const uint16_t *r = w + size_t(i) * n;
        f32x8 acc[M][4];
        for (int m = 0; m < M; m++)
            for (int c = 0; c < 4; c++) acc[m][c] = 0.0f;
        int j = 0;
        for (; j + 32 <= n; j += 32) {
            if constexpr (M == 1) prefetch_ahead(r + j, 64);  // memory-bound: one position
            for (int c = 0; c < 4; c++) {
                const f32x8 wv = wide(r + j + 8 * c);
                for (int m = 0; m < M; m++) acc[m][c] += wv * wide(x + size_t(m) * n + j + 8 * c);
            }
        }
        for (int m = 0; m < M; m++) {
            const f32x8 t = (acc[m][0] + acc[m][2]) + (acc[m][1] + acc[m][3]);
            const auto h = __builtin_shufflevector(t, t, 0, 1, 2, 3) + __builtin_shufflevector(t, t, 4, 5, 6, 7);
            double sum = (h[0] + h[1]) + (h[2] + h[3]);
            for (int k = j; k < n; k++) sum += double(narrow(r[k]) * narrow(x[size_t(m) * n + k]));
            out[size_t(m) * d + i] = float(sum);
        }
    }
}

// Two positions at a time: 8 accumulators, as many as the registers hold beside the operands.
template <typename Wide, typename Narrow>
void half_positions(float *out, const void *xh, const void *w, int n, int d, int m, Wide wide, Narrow narrow) {
    const uint16_t *x = static_cast<const uint16_t *>(xh), *wr = static_cast<const uint16_t *>(w);
    for (int p = 0; p < m;) {
        const uint16_t *xp = x + size_t(p) * n;
        float *o = out + size_t(p) * d;
        if (m - p == 1) {
            half_rows<1>(o, xp, wr, n, d, wide, narrow);
            p += 1;
        } else {
            half_rows<2>(o, xp, wr, n, d, wide, narrow);
            p += 2;
        }
    }
}

inline float bf2f(uint16_t h) { return __builtin_bit_cast(float, uint32_t(h) << 16); }
inline f32x8 bf2f8(const uint16_t *p) {
    return __builtin_bit_cast(f32x8, __builtin_convertvector(load<u16x8>(p), u32x8) << 16);
}

void matvec_bf16(float *out, const void *xb, const void *w, int n, int d) {
    half_positions(out, xb, w, n, d, 1, bf2f8, bf2f);
}
void matmat_bf16(float *out, const void *xb, const void *w, int n, int d, int m) {
    half_positions(out, xb, w, n, d, m, bf2f8, bf2f);
}

void to_f16(void *y, const float *x, int n) {
    fp16_t *h = static_cast<fp16_t *>(y);
    for (int i = 0; i < n; i++) h[i] = f2h(x[i]);
}

void matvec_f16(float *out, const void *xh, const void *w, int n, int d) {
    half_positions(out, xh, w, n, d, 1, h2f8, h2f);
}
void matmat_f16(float *out, const void *xh, const void *w, int n, int d, int m) {
    half_positions(out, xh, w, n, d, m, h2f8, h2f);
}

// The scores are q (rounded to fp16 once per head) . k in ggml_vec_dot_f16's order (half_rows), as
// llama.cpp's K*Q product computes them; the weighted sum of values sums each dimension over the
// positions in order.
//
// Both passes go through the cache row by row, all heads of a row at once: a row's heads lie
// side by side, so K and V are each read as one sequential stream. Head by head they were read as
// one strided stream per head (head_size values every kv_dim), which the prefetchers followed
// badly: with the cache out of L2, as after a layer's weights went by, the kernel ran at ~7 GB/s.
// The values' sums stay in memory (L1) between rows; each is still one FMA a row in t order, so
// the floats are the ones a register chain per column gives.
void attention_f16(float *out, float *att, const float *q, const void *key_cache, const void *value_cache,
                   int pos, int n_heads, int n_kv_heads, int head_size, int h0, int h1) {
    constexpr int kMaxHead = 512;  // larger heads (none known) take the one-value-at-a-time loops
    constexpr int kQ = 4096;       // fp16 query values on the stack: 8 heads of 512 or more smaller ones
    const fp16_t *kc = static_cast<const fp16_t *>(key_cache);
    const fp16_t *vc = static_cast<const fp16_t *>(value_cache);
    const int hs = head_size, kv_dim = n_kv_heads * hs, kv_mul = n_heads / n_kv_heads, len = pos + 1;
    const float scale = 1.0f / sqrtf(float(hs));
    if (hs > kMaxHead) {
        for (int h = h0; h < h1; h++) {
            const size_t koff = size_t(h / kv_mul) * hs;
            float *ah = att + size_t(h) * len;
            for (int t = 0; t < len; t++) {
                float s = 0.0f;
                for (int i = 0; i < hs; i++) s += h2f(kc[size_t(t) * kv_dim + koff + i]) * h2f(f2h(q[size_t(h) * hs + i]));
                ah[t] = s * scale;
            }
            detail::softmax_impl(ah, len);
            for (int t = 0; t < len; t++) ah[t] = h2f(f2h(ah[t]));
            for (int i = 0; i < hs; i++) {
                float o = 0.0f;
                for (int t = 0; t < len; t++) o += ah[t] * h2f(vc[size_t(t) * kv_dim + koff + i]);
                out[size_t(h) * hs + i] = o;
            }
        }
        return;
    }
    fp16_t q16[kQ];
    const int group = kQ / hs;
    for (int g0 = h0; g0 < h1; g0 += group) {
        const int g1 = h1 - g0 < group ? h1 : g0 + group;
        for (int h = g0; h < g1; h++)
            for (int i = 0; i < hs; i++) q16[(h - g0) * hs + i] = f2h(q[size_t(h) * hs + i]);
        for (int t = 0; t < len; t++) {
            const fp16_t *kt = kc + size_t(t) * kv_dim;
            for (int h = g0; h < g1; h++) {
                float s = 0.0f;
                half_rows<1>(&s, q16 + (h - g0) * hs, kt + size_t(h / kv_mul) * hs, hs, 1, h2f8, h2f);
                att[size_t(h) * len + t] = s * scale;
            }
        }
        // The fp32 kernels' softmax (its exp inline and vectorized, where libm's expf was a call
        // per score), then the probabilities rounded to fp16 as llama.cpp does.
        for (int h = g0; h < g1; h++) {
            float *ah = att + size_t(h) * len;
            detail::softmax_impl(ah, len);
            int t = 0;
            for (; t + 8 <= len; t += 8) {
                const f32x8 r = round_f16_8(load<f32x8>(ah + t));
                memcpy(ah + t, &r, sizeof r);
            }
            for (; t < len; t++) ah[t] = h2f(f2h(ah[t]));
        }
        for (int i = g0 * hs; i < g1 * hs; i++) out[i] = 0.0f;
        for (int t = 0; t < len; t++) {
            const fp16_t *vt = vc + size_t(t) * kv_dim;
            for (int h = g0; h < g1; h++) {
                const float a = att[size_t(h) * len + t];
                const fp16_t *v = vt + size_t(h / kv_mul) * hs;
                float *oh = out + size_t(h) * hs;
                int i = 0;
                for (; i + 8 <= hs; i += 8) {
                    f32x8 o = load<f32x8>(oh + i);
                    o += a * h2f8(v + i);
                    memcpy(oh + i, &o, sizeof o);
                }
                for (; i < hs; i++) oh[i] += a * h2f(v[i]);
            }
        }
    }
}

}  // namespace bf::kern
