// K-quant weights (Q2_K ... Q6_K) against Q8_K activations, as llama.cpp's CPU backend computes
// them (its reference vec_dot_q*_K_q8_K): per 256-value super-block the integer sums of each
// 16-value group times the group's integer scale, added up as an integer; the mins (Q2_K, Q4_K,
// Q5_K) pair with the activation's 16-value sums (bsums), also as an integer; then
//   sum += (d_w * d_x) * isum - (dmin_w * d_x) * summs   in fp32, super-block by super-block.
// Every type unpacks a super-block to 256 int8 values plus 16 scales and 16 mins (32-value
// sub-blocks give their scale to both of their groups) and shares one loop for the sums.
// Portable, call-free C++ (the JIT compiles it too); correct first, like qmatvec.cpp.
#include "kernels.h"
#include "qmatvec_detail.h"
#include "qsimd.h"
#include "quant.h"

#include <string.h>

namespace bf::kern {
namespace {

using namespace quant;
using namespace qdetail;
using namespace qsimd;
using qsimd::h2f;

// Every K-quant: a weight super-block is unpacked once into 8 chunks of 32
// unsigned values and, per chunk, the int16 scales of its two 16-value groups; each chunk goes
// through the byte multiply (qsimd.h) against the activations, the int16 multiply-add that
// widens the products applies the group scales, and all 256 values sum as 8 int32 lanes. The
// mins (Q2_K, Q4_K, Q5_K) and the offsets of Q3_K (-4) and Q6_K (-32) pair with the activations'
// 16-value sums (bsums), one multiply-add per super-block:
//   sum += d_w * d_x * isum - dm * d_x * (m16 . bsums)
// with dm = dmin (m16 the mins) or d_w (m16 = offset * the scales).
struct KUnpacked {
    u8x32 v[8];
    i16x16 sc[8];
    i16x16 m16;
    f32x4 ddm;  // d, dm (and two unused lanes): the two fp16 scales converted at once
};

// M positions at once (matmat_*; one for matvec): each super-block is unpacked once for all
// (unpack(block, u, M == 1): one position may get the same values by other instructions).
// out[m * d + i] is row i of position m.
template <int M, typename Block, typename Unpack>
void k_rows(float *out, const block_q8_K *x, const Block *rows, int nb, int d, Unpack unpack) {
    for (int i = 0; i < d; i++) {
        const Block *r = rows + size_t(i) * nb;
        f32x8 acc[M];
        for (int m = 0; m < M; m++) acc[m] = 0.0f;
        for (int b = 0; b < nb; b++) {
            if constexpr (M == 1) prefetch_ahead(r + b, sizeof(Block));  // memory-bound: one position
            KUnpacked u;
            unpack(r[b], u, M == 1);
            for (int m = 0; m < M; m++) {
                const block_q8_K &xb = x[size_t(m) * nb + b];
                i32x8 s = 0;
                for (int c = 0; c < 8; c++) s += madd(mul_pairs(u.v[c], load<i8x32>(xb.qs + 32 * c)), u.sc[c]);
                const i32x8 mins = madd(load<i16x16>(xb.bsums), u.m16);
                if constexpr (M == 1) {  // both products in one multiply: fewer instructions to issue
                    const f32x4 p = u.ddm * xb.d;
                    acc[m] += to_f32(s) * f32x8(p[0]) - to_f32(mins) * f32x8(p[1]);
                } else {  // the same products, one at a time (fewer live registers beside 4 positions)
                    acc[m] += to_f32(s) * (u.ddm[0] * xb.d) - to_f32(mins) * (u.ddm[1] * xb.d);
                }
            }
        }
        for (int m = 0; m < M; m++) out[size_t(m) * d + i] = hsum(acc[m]);
    }
}

template <typename Block, typename Unpack>
void k_positions(float *out, const void *xq, const void *w, int n, int d, int m, Unpack unpack) {
    const int nb = n / QK_K;
    const block_q8_K *x = static_cast<const block_q8_K *>(xq);
    const Block *rows = static_cast<const Block *>(w);
    for (int p = 0; p < m;) {
        const block_q8_K *xp = x + size_t(p) * nb;
        float *o = out + size_t(p) * d;
        switch (m - p) {
        case 1: k_rows<1>(o, xp, rows, nb, d, unpack); p += 1; break;
        case 2: k_rows<2>(o, xp, rows, nb, d, unpack); p += 2; break;
        case 3: k_rows<3>(o, xp, rows, nb, d, unpack); p += 3; break;
        default: k_rows<4>(o, xp, rows, nb, d, unpack); p += 4; break;
        }
    }
}

// Q4_K/Q5_K's packed scales and mins (scale_min_k4) unpacked 8 at a time, as ggml's x86 code
// does: bytes 0-7 of u[0..3] are the 8 scales, bytes 8-15 the 8 mins.
inline void scales_mins_k4(const uint8_t *packed, uint32_t *u) {
    memcpy(u, packed, 12);
    constexpr uint32_t m6 = 0x3f3f3f3f, m4 = 0x0f0f0f0f, m2 = 0x03030303;
    u[3] = ((u[2] >> 4) & m4) | (((u[1] >> 6) & m2) << 4);
    const uint32_t mins_lo = u[1] & m6;
    u[1] = (u[2] & m4) | (((u[0] >> 6) & m2) << 4);
    u[2] = mins_lo;
    u[0] &= m6;
}

typedef uint8_t u8x8 __attribute__((ext_vector_type(8)));

// Q4_K/Q5_K: chunk 2j takes the low nibbles of bytes 32j.., chunk 2j+1 their high nibbles; each
// 32-value sub-block has one scale and one min (shared by its two 16-value groups).
template <typename Block>
void unpack_k4(const Block &b, KUnpacked &u, bool one_position) {
    uint32_t sm[4];  // bytes 0-7 the scales, 8-15 the mins
    scales_mins_k4(b.scales, sm);
    for (int j = 0; j < 4; j++) {
        const u8x32 q = load<u8x32>(b.qs + 32 * j);
        u.v[2 * j] = q & 15;
        u.v[2 * j + 1] = q >> 4;
    }
    u8x8 mn;
    if (one_position) {  // token generation: issue-bound, the shuffles are fewer instructions
        spread8(uint64_t(sm[0]) | uint64_t(sm[1]) << 32, u.sc);
        mn = __builtin_bit_cast(u8x8, uint64_t(sm[2]) | uint64_t(sm[3]) << 32);
    } else {  // a prompt's 4 positions: broadcasts from memory as each is used (8 live
              // registers of scales made the prompt 10-20% slower)
        uint8_t sb[16];
        memcpy(sb, sm, 16);
        for (int c = 0; c < 8; c++) u.sc[c] = i16x16(int16_t(sb[c]));
        mn = load<u8x8>(sb + 8);
    }
    u.m16 = __builtin_convertvector(__builtin_shufflevector(mn, mn, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7),
                                    i16x16);
    u.ddm = h2f2(b.d, b.dmin);
}

#if BF_QSIMD_AVX512
// Q4_K token generation in 512-bit vectors: per super-block the same products, scales and sums as
// k_rows<1> with unpack_k4, in about half the vector instructions. A 64-byte load of nibbles
// holds chunks 4h and 4h + 2 (low nibbles) and 4h + 1 and 4h + 3 (high); the activations are
// copied once per call (per 128 super-blocks) in that order, and folding the two halves' lanes
// gives k_rows' 8 lanes, the same integers: the same result to the bit as the other builds and
// as matmat (rows of up to 32768 values; longer ones add their 32768-value parts in turn).
void q4_k_rows512(float *out, const block_q8_K *x, const block_q4_K *rows, int nb, int d) {
    constexpr int kSB = 128;  // super-blocks per chunk: 32 KB of activation copies (pair_rows' M = 4 take 64)
    for (int c0 = 0; c0 < nb; c0 += kSB) {
        const int cn = nb - c0 < kSB ? nb - c0 : kSB;
        i8x64 xs[kSB][4];  // super-block b: [chunk 0 | 2], [1 | 3], [4 | 6], [5 | 7]
        for (int b = 0; b < cn; b++)
            for (int h = 0; h < 2; h++) {
                const int8_t *xq = x[c0 + b].qs + 128 * h;
                xs[b][2 * h] = join<i8x64>(load<i8x32>(xq), load<i8x32>(xq + 64));
                xs[b][2 * h + 1] = join<i8x64>(load<i8x32>(xq + 32), load<i8x32>(xq + 96));
            }
        for (int i = 0; i < d; i++) {
            const block_q4_K *r = rows + size_t(i) * nb + c0;
            f32x8 acc = 0.0f;
            for (int b = 0; b < cn; b++) {
                prefetch_ahead(r + b, sizeof(block_q4_K));
                const block_q4_K &w = r[b];
                const block_q8_K &xb = x[c0 + b];
                uint32_t sm[4];  // bytes 0-7 the scales, 8-15 the mins
                scales_mins_k4(w.scales, sm);
                i16x32 sc[4];
                spread8_halves(uint64_t(sm[0]) | uint64_t(sm[1]) << 32, sc);
                const u8x8 mn = __builtin_bit_cast(u8x8, uint64_t(sm[2]) | uint64_t(sm[3]) << 32);
                const i16x16 m16 = __builtin_convertvector(
                    __builtin_shufflevector(mn, mn, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7), i16x16);
                i32x16 s = 0;
                for (int h = 0; h < 2; h++) {
                    const u8x64 q = load<u8x64>(w.qs + 64 * h);
                    s = madd_acc(s, mul_pairs(q & 15, xs[b][2 * h]), sc[2 * h]);
                    s = madd_acc(s, mul_pairs(q >> 4, xs[b][2 * h + 1]), sc[2 * h + 1]);
                }
                const i32x8 mins = madd(load<i16x16>(xb.bsums), m16);
                const f32x4 p = h2f2(w.d, w.dmin) * xb.d;
                acc += to_f32(fold(s)) * f32x8(p[0]) - to_f32(mins) * f32x8(p[1]);
            }
            const float part = hsum(acc);
            out[i] = c0 ? out[i] + part : part;
        }
    }
}

// A prompt's 2-4 positions: the same, each super-block's nibbles and scales unpacked once for
// all of them, each position's activations joined as they are used (copies would take 32 KB a
// position); the products as k_rows<M> forms them, so each position gets matvec's result.
template <int M>
void q4_k_rows512_m(float *out, const block_q8_K *x, const block_q4_K *rows, int nb, int d) {
    for (int i = 0; i < d; i++) {
        const block_q4_K *r = rows + size_t(i) * nb;
        f32x8 acc[M];
        for (int m = 0; m < M; m++) acc[m] = 0.0f;
        for (int b = 0; b < nb; b++) {
            const block_q4_K &w = r[b];
            uint32_t sm[4];
            scales_mins_k4(w.scales, sm);
            i16x32 sc[4];
            spread8_halves(uint64_t(sm[0]) | uint64_t(sm[1]) << 32, sc);
            const u8x8 mn = __builtin_bit_cast(u8x8, uint64_t(sm[2]) | uint64_t(sm[3]) << 32);
            const i16x16 m16 = __builtin_convertvector(
                __builtin_shufflevector(mn, mn, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7), i16x16);
            const u8x64 q0 = load<u8x64>(w.qs), q1 = load<u8x64>(w.qs + 64);
            const u8x64 v[4] = {q0 & 15, q0 >> 4, q1 & 15, q1 >> 4};
            const f32x4 ddm = h2f2(w.d, w.dmin);
            for (int m = 0; m < M; m++) {
                const block_q8_K &xb = x[size_t(m) * nb + b];
                i32x16 s = 0;
                for (int h = 0; h < 2; h++) {
                    const int8_t *xq = xb.qs + 128 * h;
                    s = madd_acc(s, mul_pairs(v[2 * h], join<i8x64>(load<i8x32>(xq), load<i8x32>(xq + 64))), sc[2 * h]);
                    s = madd_acc(s, mul_pairs(v[2 * h + 1], join<i8x64>(load<i8x32>(xq + 32), load<i8x32>(xq + 96))),
                                 sc[2 * h + 1]);
                }
                const i32x8 mins = madd(load<i16x16>(xb.bsums), m16);
                acc[m] += to_f32(fold(s)) * (ddm[0] * xb.d) - to_f32(mins) * (ddm[1] * xb.d);
            }
        }
        for (int m = 0; m < M; m++) out[size_t(m) * d + i] = hsum(acc[m]);
    }
}

// Q6_K in 512-bit vectors, M positions (1 for token generation): a 64-byte load of ql holds the
// low 4 bits of chunks 4h, 4h + 1 (low nibbles) and 4h + 2, 4h + 3 (high), each pair 64 values
// in a row, so the activations need no rearranging; the 2 high bits come from qh (its 32 bytes
// in both halves, each half shifted by its own field). Per vector the four 16-value groups'
// scales (spread4_groups). Folded, the same integers as unpack_q6_k's chunks: the same result.
template <int M>
void q6_k_rows512(float *out, const block_q8_K *x, const block_q6_K *rows, int nb, int d) {
    for (int i = 0; i < d; i++) {
        const block_q6_K *r = rows + size_t(i) * nb;
        f32x8 acc[M];
        for (int m = 0; m < M; m++) acc[m] = 0.0f;
        for (int b = 0; b < nb; b++) {
            if constexpr (M == 1) prefetch_ahead(r + b, sizeof(block_q6_K));
            const block_q6_K &w = r[b];
            const i16x16 s16 = __builtin_convertvector(load<i8x16>(w.scales), i16x16);
            u8x64 v[4];
            i16x32 sc[4];
            for (int h = 0; h < 2; h++) {
                const u8x64 ql = load<u8x64>(w.ql + 64 * h);
                const u8x32 qh32 = load<u8x32>(w.qh + 32 * h);
                const u8x64 qh = join<u8x64>(qh32, qh32);
                v[2 * h] = (ql & 15) | ((shift_halves_right(qh, 0, 2) & 3) << 4);
                v[2 * h + 1] = (ql >> 4) | ((shift_halves_right(qh, 4, 6) & 3) << 4);
                sc[2 * h] = spread4_groups(s16, 8 * h);
                sc[2 * h + 1] = spread4_groups(s16, 8 * h + 4);
            }
            const i16x16 m16 = s16 * int16_t(32);
            const float dw = h2f(w.d);
            for (int m = 0; m < M; m++) {
                const block_q8_K &xb = x[size_t(m) * nb + b];
                i32x16 s = 0;
                for (int j = 0; j < 4; j++) s = madd_acc(s, mul_pairs(v[j], load<i8x64>(xb.qs + 64 * j)), sc[j]);
                const i32x8 mins = madd(load<i16x16>(xb.bsums), m16);
                const float p = dw * xb.d;
                acc[m] += to_f32(fold(s)) * f32x8(p) - to_f32(mins) * f32x8(p);
            }
        }
        for (int m = 0; m < M; m++) out[size_t(m) * d + i] = hsum(acc[m]);
    }
}
#endif

}  // namespace

// Q8_K per 256 values: iscale = -127 / m (m the value of largest magnitude, sign kept), q to
// nearest even, d = 1 / iscale in fp32; bsums of each 16 q. An all-zero block is all zero
// (llama.cpp leaves its bsums unset there; with d = 0 they do not matter).
void quantize_q8_k(void *y, const float *x, int n) {
    block_q8_K *out = static_cast<block_q8_K *>(y);
    for (int i = 0; i < n / QK_K; i++, x += QK_K) {
        float max = 0.0f, amax = 0.0f;
        for (int j = 0; j < QK_K; j++) {
            const float a = x[j] < 0 ? -x[j] : x[j];
            if (a > amax) {
                amax = a;
                max = x[j];
            }
        }
        block_q8_K &b = out[i];
        if (amax == 0.0f) {
            memset(&b, 0, sizeof b);
            continue;
        }
        const float iscale = -127.0f / max;
        for (int j = 0; j < QK_K; j++) b.qs[j] = to_q8(round_even(iscale * x[j]));
        for (int g = 0; g < QK_K / 16; g++) {
            int s = 0;
            for (int j = 0; j < 16; j++) s += b.qs[16 * g + j];
            b.bsums[g] = int16_t(s);
        }
        b.d = 1.0f / iscale;
    }
}

namespace {

// Per 16-value group g scale s[g] (-128..127 in every K-quant): chunk c's int16 scales (groups
// 2c and 2c+1).
inline void group_scales(const int8_t *s, KUnpacked &u) { spread16_pairs(s, u.sc); }

// Q2_K and Q3_K keep 2 bits a value the same way: a half of 128 values draws on 32 bytes, taking
// their 2-bit fields (shift 0, 2, 4, 6) in turn: chunk 4 * half + field.
void low_2bit(const uint8_t *qs, KUnpacked &u) {
    for (int half = 0; half < 2; half++) {
        const u8x32 q = load<u8x32>(qs + 32 * half);
        for (int field = 0; field < 4; field++) u.v[4 * half + field] = (q >> (2 * field)) & 3;
    }
}

// Q2_K: values 0..3; per group a 4-bit scale (low nibble) and a 4-bit min (high nibble).
void unpack_q2_k(const block_q2_K &b, KUnpacked &u, bool) {
    low_2bit(b.qs, u);
    const u8x16 sm = load<u8x16>(b.scales);
    const u8x16 sc = sm & 15, mn = sm >> 4;
    group_scales(reinterpret_cast<const int8_t *>(&sc), u);
    u.m16 = __builtin_convertvector(mn, i16x16);
    u.ddm = h2f2(b.d, b.dmin);
}

// Q3_K: value (q & 3) - 4, or (q & 3) where bit c of hmask byte l is set (value l of chunk c):
// kept as 0..7 with the -4 paid through the bsums; 6-bit signed scales.
void unpack_q3_k(const block_q3_K &b, KUnpacked &u, bool) {
    low_2bit(b.qs, u);
    const u8x32 hm = load<u8x32>(b.hmask);
    for (int c = 0; c < 8; c++) u.v[c] |= ((hm >> c) & 1) << 2;
    int8_t s[16];
    for (int g = 0; g < 16; g++) s[g] = int8_t(scale_q3_K(b.scales, g));
    group_scales(s, u);
    u.m16 = __builtin_convertvector(load<i8x16>(s), i16x16) * int16_t(4);
    u.ddm = h2f2(b.d, b.d);
}

// Q5_K: bit c of qh byte l is bit 4 of value l of chunk c.
void unpack_q5_k(const block_q5_K &b, KUnpacked &u, bool one_position) {
    unpack_k4(b, u, one_position);
    const u8x32 qh = load<u8x32>(b.qh);
    for (int c = 0; c < 8; c++) u.v[c] |= ((qh >> c) & 1) << 4;
}

// Q6_K: per half of 128 values, chunk c (of 4) takes low 4 bits from 32 bytes of ql (bytes 0-31
// for c = 0 and 2, 32-63 for 1 and 3; low nibble for c < 2, high for c >= 2) and high 2 bits from
// field c of 32 bytes of qh; values 0..63, the -32 offset through the bsums; int8 scales per 16.
[[maybe_unused]] void unpack_q6_k(const block_q6_K &b, KUnpacked &u, bool) {  // 512-bit builds: q6_k_rows512
    for (int half = 0; half < 2; half++) {
        const u8x32 qh = load<u8x32>(b.qh + 32 * half);
        const u8x32 ql0 = load<u8x32>(b.ql + 64 * half), ql1 = load<u8x32>(b.ql + 64 * half + 32);
        u8x32 *v = u.v + 4 * half;
        v[0] = (ql0 & 15) | ((qh & 3) << 4);
        v[1] = (ql1 & 15) | (((qh >> 2) & 3) << 4);
        v[2] = (ql0 >> 4) | (((qh >> 4) & 3) << 4);
        v[3] = (ql1 >> 4) | ((qh >> 6) << 4);
    }
    group_scales(b.scales, u);
    u.m16 = __builtin_convertvector(load<i8x16>(b.scales), i16x16) * int16_t(32);
    u.ddm = h2f2(b.d, b.d);
}

}  // namespace

#define BF_QK(type, block, unpack)                                                              \
    void matvec_##type(float *out, const void *xq, const void *w, int n, int d) {               \
        k_positions<block>(out, xq, w, n, d, 1, unpack);                                        \
    }                                                                                           \
    void matmat_##type(float *out, const void *xq, const void *w, int n, int d, int m) {        \
        k_positions<block>(out, xq, w, n, d, m, unpack);                                        \
    }
BF_QK(q2_k, block_q2_K, unpack_q2_k)
BF_QK(q3_k, block_q3_K, unpack_q3_k)
#if BF_QSIMD_AVX512
void matvec_q4_k(float *out, const void *xq, const void *w, int n, int d) {
    q4_k_rows512(out, static_cast<const block_q8_K *>(xq), static_cast<const block_q4_K *>(w), n / QK_K, d);
}
void matmat_q4_k(float *out, const void *xq, const void *w, int n, int d, int m) {
    const int nb = n / QK_K;
    const block_q8_K *x = static_cast<const block_q8_K *>(xq);
    const block_q4_K *rows = static_cast<const block_q4_K *>(w);
    four_at_a_time(m, [&]<int M>(int p) {
        if constexpr (M == 1) q4_k_rows512(out + size_t(p) * d, x + size_t(p) * nb, rows, nb, d);
        else q4_k_rows512_m<M>(out + size_t(p) * d, x + size_t(p) * nb, rows, nb, d);
    });
}
#else
BF_QK(q4_k, block_q4_K, unpack_k4<block_q4_K>)
#endif
BF_QK(q5_k, block_q5_K, unpack_q5_k)
#if BF_QSIMD_AVX512
void matvec_q6_k(float *out, const void *xq, const void *w, int n, int d) {
    q6_k_rows512<1>(out, static_cast<const block_q8_K *>(xq), static_cast<const block_q6_K *>(w), n / QK_K, d);
}
void matmat_q6_k(float *out, const void *xq, const void *w, int n, int d, int m) {
    const int nb = n / QK_K;
    const block_q8_K *x = static_cast<const block_q8_K *>(xq);
    four_at_a_time(m, [&]<int M>(int p) {
        q6_k_rows512<M>(out + size_t(p) * d, x + size_t(p) * nb, static_cast<const block_q6_K *>(w), nb, d);
    });
}
#else
BF_QK(q6_k, block_q6_K, unpack_q6_k)
#endif
#undef BF_QK

}  // namespace bf::kern
