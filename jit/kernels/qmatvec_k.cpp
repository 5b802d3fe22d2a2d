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

// One weight super-block in integer form: value v is q[v]; group g (values 16g..16g+15) has
// scale sc[g] and min mn[g]; dmin is 0 (and mn all 0) for the types without mins.
struct Unpacked {
    int8_t q[QK_K];
    int sc[QK_K / 16], mn[QK_K / 16];
    float d, dmin;
};

template <typename Block, typename Unpack>
void matvec_k(float *out, const void *xq, const void *w, int n, int d, Unpack unpack) {
    const int nb = n / QK_K;
    const block_q8_K *x = static_cast<const block_q8_K *>(xq);
    const Block *rows = static_cast<const Block *>(w);
    Unpacked u;
    for (int i = 0; i < d; i++) {
        const Block *r = rows + size_t(i) * nb;
        float sum = 0.0f;
        for (int b = 0; b < nb; b++) {
            unpack(r[b], u);
            int isum = 0, summs = 0;
            for (int g = 0; g < QK_K / 16; g++) {
                isum += u.sc[g] * dot_i8<16>(u.q + 16 * g, x[b].qs + 16 * g);
                summs += u.mn[g] * int(x[b].bsums[g]);
            }
            sum += (u.d * x[b].d) * float(isum) - (u.dmin * x[b].d) * float(summs);
        }
        out[i] = sum;
    }
}

// Q2_K and Q3_K keep 2 bits a value the same way: a half of 128 values draws on 32 bytes, taking
// their 2-bit fields (shift 0, 2, 4, 6) in turn, 32 values per field.
void unpack_2bit(const uint8_t *qs, int8_t *q) {
    for (int half = 0; half < 2; half++)
        for (int field = 0; field < 4; field++)
            for (int l = 0; l < 32; l++) q[half * 128 + field * 32 + l] = int8_t((qs[half * 32 + l] >> (2 * field)) & 3);
}

// The fast types (Q4_K, Q5_K, Q6_K): values kept unsigned, 32 at a time through the byte
// multiply (qsimd.h), each 16-value group's scale applied by the int16 multiply-add that widens
// the products, all 256 values summed as 8 int32 lanes; the mins (Q4_K, Q5_K) and Q6_K's -32
// offset pair with the activations' 16-value sums (bsums), one multiply-add per super-block:
//   sum += d_w * d_x * isum  -  (dmin_w * d_x * summ  or  32 * d_w * d_x * summ).
// `isum(wb, xb, summ)` returns isum as 8 lanes and sets summ (the mins' or scales' bsum dot).
template <typename Block, typename ISum, typename Scales>
void matvec_k_fast(float *out, const void *xq, const void *w, int n, int d, ISum isum, Scales dscale) {
    const int nb = n / QK_K;
    const block_q8_K *x = static_cast<const block_q8_K *>(xq);
    const Block *rows = static_cast<const Block *>(w);
    for (int i = 0; i < d; i++) {
        const Block *r = rows + size_t(i) * nb;
        f32x8 acc = 0.0f;
        float scalar = 0.0f;
        for (int b = 0; b < nb; b++) {
            int summ;
            const i32x8 s = isum(r[b], x[b], summ);
            float dd, dm;
            dscale(r[b], dd, dm);
            acc += to_f32(s) * (dd * x[b].d);
            scalar -= (dm * x[b].d) * float(summ);
        }
        out[i] = hsum(acc) + scalar;
    }
}

// Q4_K/Q5_K's packed scales and mins (scale_min_k4) unpacked 8 at a time, as ggml's x86 code
// does: bytes 0-7 of the result are the 8 scales, bytes 8-15 the 8 mins.
inline void scales_mins_k4(const uint8_t *packed, uint8_t *out16) {
    uint32_t u[4];
    memcpy(u, packed, 12);
    constexpr uint32_t m6 = 0x3f3f3f3f, m4 = 0x0f0f0f0f, m2 = 0x03030303;
    u[3] = ((u[2] >> 4) & m4) | (((u[1] >> 6) & m2) << 4);
    const uint32_t mins_lo = u[1] & m6;
    u[1] = (u[2] & m4) | (((u[0] >> 6) & m2) << 4);
    u[2] = mins_lo;
    u[0] &= m6;
    memcpy(out16, u, 16);
}

typedef uint8_t u8x8 __attribute__((ext_vector_type(8)));

// sum over the 16 groups of bsums[g] * m[g / 2] (8 mins, each shared by the two groups of its
// 32-value sub-block).
inline int mins_dot(const uint8_t *mins8, const int16_t *bsums) {
    const u8x8 m = load<u8x8>(mins8);
    const i16x16 m16 = __builtin_convertvector(
        __builtin_shufflevector(m, m, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7), i16x16);
    return hsum_i(madd(load<i16x16>(bsums), m16));
}

// Q4_K/Q5_K's integer sum: chunk j (64 values) takes low nibbles for sub-block 2j and high
// nibbles for 2j+1; `high(j, lo, hi)` adds Q5_K's fifth bits.
template <typename High>
inline i32x8 isum_k4(const uint8_t *qs, const uint8_t *sc, const int8_t *xq, High high) {
    i32x8 acc = 0;
    for (int j = 0; j < 4; j++) {
        const u8x32 q = load<u8x32>(qs + 32 * j);
        u8x32 lo = q & 15, hi = q >> 4;
        high(j, lo, hi);
        acc += madd(mul_pairs(lo, load<i8x32>(xq + 64 * j)), i16x16(int16_t(sc[2 * j])));
        acc += madd(mul_pairs(hi, load<i8x32>(xq + 64 * j + 32)), i16x16(int16_t(sc[2 * j + 1])));
    }
    return acc;
}

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

void matvec_q2_k(float *out, const void *xq, const void *w, int n, int d) {
    matvec_k<block_q2_K>(out, xq, w, n, d, [](const block_q2_K &b, Unpacked &u) {
        unpack_2bit(b.qs, u.q);
        for (int g = 0; g < 16; g++) {
            u.sc[g] = b.scales[g] & 15;
            u.mn[g] = b.scales[g] >> 4;
        }
        u.d = h2f(b.d);
        u.dmin = h2f(b.dmin);
    });
}

void matvec_q3_k(float *out, const void *xq, const void *w, int n, int d) {
    matvec_k<block_q3_K>(out, xq, w, n, d, [](const block_q3_K &b, Unpacked &u) {
        unpack_2bit(b.qs, u.q);
        // Bit v/32 of hmask byte v%32 set: no -4 offset.
        for (int v = 0; v < QK_K; v++) u.q[v] = int8_t(u.q[v] - (((b.hmask[v % 32] >> (v / 32)) & 1) ? 0 : 4));
        for (int g = 0; g < 16; g++) {
            u.sc[g] = scale_q3_K(b.scales, g);
            u.mn[g] = 0;
        }
        u.d = h2f(b.d);
        u.dmin = 0.0f;
    });
}

template <typename Block>
void dscale_min(const Block &b, float &dd, float &dm) {
    dd = h2f(b.d);
    dm = h2f(b.dmin);
}

void matvec_q4_k(float *out, const void *xq, const void *w, int n, int d) {
    matvec_k_fast<block_q4_K>(
        out, xq, w, n, d,
        [](const block_q4_K &b, const block_q8_K &x, int &summ) {
            uint8_t sm[16];
            scales_mins_k4(b.scales, sm);
            summ = mins_dot(sm + 8, x.bsums);
            return isum_k4(b.qs, sm, x.qs, [](int, u8x32 &, u8x32 &) {});
        },
        dscale_min<block_q4_K>);
}

// Q5_K: bit 2j of qh byte l is bit 4 of value l of sub-block 2j (low nibbles), bit 2j+1 that
// of sub-block 2j+1.
void matvec_q5_k(float *out, const void *xq, const void *w, int n, int d) {
    matvec_k_fast<block_q5_K>(
        out, xq, w, n, d,
        [](const block_q5_K &b, const block_q8_K &x, int &summ) {
            uint8_t sm[16];
            scales_mins_k4(b.scales, sm);
            summ = mins_dot(sm + 8, x.bsums);
            const u8x32 qh = load<u8x32>(b.qh);
            return isum_k4(b.qs, sm, x.qs, [&](int j, u8x32 &lo, u8x32 &hi) {
                lo |= ((qh >> (2 * j)) & 1) << 4;
                hi |= ((qh >> (2 * j + 1)) & 1) << 4;
            });
        },
        dscale_min<block_q5_K>);
}

// Q6_K: per half of 128 values, 32-value chunk c takes low 4 bits from 32 bytes of ql (bytes
// 0-31 for c = 0 and 2, 32-63 for 1 and 3; low nibble for c < 2, high for c >= 2) and high 2 bits
// from field c of 32 bytes of qh; values 0..63 (the -32 offset goes through the bsums); int8
// scales per 16 values.
void matvec_q6_k(float *out, const void *xq, const void *w, int n, int d) {
    matvec_k_fast<block_q6_K>(
        out, xq, w, n, d,
        [](const block_q6_K &b, const block_q8_K &x, int &summ) {
            const i16x16 sc16 = __builtin_convertvector(load<i8x16>(b.scales), i16x16);
            summ = 32 * hsum_i(madd(load<i16x16>(x.bsums), sc16));
            i32x8 acc = 0;
            for (int half = 0; half < 2; half++) {
                const u8x32 qh = load<u8x32>(b.qh + 32 * half);
                const u8x32 ql0 = load<u8x32>(b.ql + 64 * half), ql1 = load<u8x32>(b.ql + 64 * half + 32);
                const u8x32 v[4] = {(ql0 & 15) | ((qh & 3) << 4), (ql1 & 15) | (((qh >> 2) & 3) << 4),
                                    (ql0 >> 4) | (((qh >> 4) & 3) << 4), (ql1 >> 4) | ((qh >> 6) << 4)};
                for (int c = 0; c < 4; c++) {
                    const int g = 8 * half + 2 * c;  // the chunk's two 16-value groups
                    const i16x16 s = {b.scales[g], b.scales[g], b.scales[g], b.scales[g], b.scales[g], b.scales[g],
                                      b.scales[g], b.scales[g], b.scales[g + 1], b.scales[g + 1], b.scales[g + 1],
                                      b.scales[g + 1], b.scales[g + 1], b.scales[g + 1], b.scales[g + 1], b.scales[g + 1]};
                    acc += madd(mul_pairs(v[c], load<i8x32>(x.qs + 128 * half + 32 * c)), s);
                }
            }
            return acc;
        },
        [](const block_q6_K &b, float &dd, float &dm) {
            dd = h2f(b.d);
            dm = dd;
        });
}

}  // namespace bf::kern
