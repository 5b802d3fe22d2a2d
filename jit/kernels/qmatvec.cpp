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

// Row by row (each row one sequential stream, as for fp32 matvec), block by block:
//   sum over blocks of  d_w * d_x * (integer dot of the block)  +  c_w * c_x
// `isum(wb, xb)` is a block's integer dot as 8 int32 partial sums; c_w, c_x the optional scalar
// term: the weights' min times the activations' s for Q4_1/Q5_1, and for Q4_0/Q5_0, whose values
// are stored with an offset, d_w times -offset * d_x * sum(q_x): the unsigned values go straight
// into the byte multiply and the offset is paid once per activation block, not once per weight
// block. The activation side (d_x in fp32, c_x) is computed once per call for a chunk of blocks
// and shared by every row. Two accumulators over even and odd blocks keep two FMA chains going.
constexpr int kChunk = 256;  // activation blocks per chunk (stack: 2 KB); rows of up to 8192 are one chunk

template <typename Block, typename XBlock, typename ISum, typename XTerm, typename WTerm>
void matvec_blocks(float *out, const void *xq, const void *w, int n, int d, ISum isum, XTerm xterm, WTerm wterm) {
    const int nb = n / QK8_0;
    const Block *rows = static_cast<const Block *>(w);
    for (int c0 = 0; c0 < nb; c0 += kChunk) {
        const int cn = nb - c0 < kChunk ? nb - c0 : kChunk;
        const XBlock *x = static_cast<const XBlock *>(xq) + c0;
        float dx[kChunk], cx[kChunk];
        for (int b = 0; b < cn; b++) {
            dx[b] = h2f(x[b].d);
            cx[b] = xterm(x[b], dx[b]);
        }
        for (int i = 0; i < d; i++) {
            const Block *r = rows + size_t(i) * nb + c0;
            f32x8 acc0 = 0.0f, acc1 = 0.0f;
            float scalar = 0.0f;
            int b = 0;
            for (; b + 2 <= cn; b += 2) {
                const float d0 = h2f(r[b].d), d1 = h2f(r[b + 1].d);
                acc0 += to_f32(isum(r[b], x[b])) * (d0 * dx[b]);
                acc1 += to_f32(isum(r[b + 1], x[b + 1])) * (d1 * dx[b + 1]);
                scalar += wterm(r[b], d0) * cx[b] + wterm(r[b + 1], d1) * cx[b + 1];
            }
            for (; b < cn; b++) {
                const float d0 = h2f(r[b].d);
                acc0 += to_f32(isum(r[b], x[b])) * (d0 * dx[b]);
                scalar += wterm(r[b], d0) * cx[b];
            }
            const float part = hsum(acc0 + acc1) + scalar;
            out[i] = c0 ? out[i] + part : part;
        }
    }
}

// The activations' integer sum of a block (for the offset types' correction).
inline int xsum(const int8_t *qs) { return hsum_i(sum_pairs(mul_pairs(u8x32(1), load<i8x32>(qs)))); }

// Q8_0 against Q8_0: signed values, no scalar term.
template <typename Block>
void matvec_signed(float *out, const void *xq, const void *w, int n, int d) {
    matvec_blocks<Block, block_q8_0>(
        out, xq, w, n, d, [](const Block &wb, const block_q8_0 &xb) { return dot32(load<i8x32>(wb.qs), load<i8x32>(xb.qs)); },
        [](const block_q8_0 &, float) { return 0.0f; }, [](const Block &, float) { return 0.0f; });
}

// Q4_0/Q5_0 against Q8_0: unsigned values (0..15, 0..31) . x, minus offset * sum(x).
template <typename Block, int Offset, typename Values>
void matvec_offset(float *out, const void *xq, const void *w, int n, int d, Values values) {
    matvec_blocks<Block, block_q8_0>(
        out, xq, w, n, d,
        [&](const Block &wb, const block_q8_0 &xb) { return sum_pairs(mul_pairs(values(wb), load<i8x32>(xb.qs))); },
        [](const block_q8_0 &xb, float dxf) { return float(-Offset * xsum(xb.qs)) * dxf; },
        [](const Block &, float dw) { return dw; });
}

// Q4_1/Q5_1 against Q8_1: unsigned values . x, plus the min term m_w * s_x.
template <typename Block, typename Values>
void matvec_min(float *out, const void *xq, const void *w, int n, int d, Values values) {
    matvec_blocks<Block, block_q8_1>(
        out, xq, w, n, d,
        [&](const Block &wb, const block_q8_1 &xb) { return sum_pairs(mul_pairs(values(wb), load<i8x32>(xb.qs))); },
        [](const block_q8_1 &xb, float) { return h2f(xb.s); }, [](const Block &wb, float) { return h2f(wb.m); });
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

void matvec_q8_0(float *out, const void *xq, const void *w, int n, int d) {
    matvec_signed<block_q8_0>(out, xq, w, n, d);
}

void matvec_q4_0(float *out, const void *xq, const void *w, int n, int d) {
    matvec_offset<block_q4_0, 8>(out, xq, w, n, d, [](const block_q4_0 &b) { return values4(b.qs); });
}

void matvec_q5_0(float *out, const void *xq, const void *w, int n, int d) {
    matvec_offset<block_q5_0, 16>(out, xq, w, n, d, [](const block_q5_0 &b) { return values5(b.qs, b.qh); });
}

void matvec_q4_1(float *out, const void *xq, const void *w, int n, int d) {
    matvec_min<block_q4_1>(out, xq, w, n, d, [](const block_q4_1 &b) { return values4(b.qs); });
}

void matvec_q5_1(float *out, const void *xq, const void *w, int n, int d) {
    matvec_min<block_q5_1>(out, xq, w, n, d, [](const block_q5_1 &b) { return values5(b.qs, b.qh); });
}

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

// Both fp16/bf16 matvecs: 4 x 8 lanes of fp32 products, `wide(p)` widening 8 values at p.
template <typename Wide, typename Narrow>
void matvec_half(float *out, const void *xh, const void *w, int n, int d, Wide wide, Narrow narrow) {
    const uint16_t *x = static_cast<const uint16_t *>(xh);
    for (int i = 0; i < d; i++) {
        const uint16_t *r = static_cast<const uint16_t *>(w) + size_t(i) * n;
        f32x8 acc[4] = {0.0f, 0.0f, 0.0f, 0.0f};
        int j = 0;
        for (; j + 32 <= n; j += 32)
            for (int c = 0; c < 4; c++) acc[c] += wide(r + j + 8 * c) * wide(x + j + 8 * c);
        for (; j + 8 <= n; j += 8) acc[0] += wide(r + j) * wide(x + j);
        float sum = hsum((acc[0] + acc[1]) + (acc[2] + acc[3]));
        for (; j < n; j++) sum += narrow(r[j]) * narrow(x[j]);
        out[i] = sum;
    }
}

inline float bf2f(uint16_t h) { return __builtin_bit_cast(float, uint32_t(h) << 16); }
inline f32x8 bf2f8(const uint16_t *p) {
    return __builtin_bit_cast(f32x8, __builtin_convertvector(load<u16x8>(p), u32x8) << 16);
}

void matvec_bf16(float *out, const void *xb, const void *w, int n, int d) {
    matvec_half(out, xb, w, n, d, bf2f8, bf2f);
}

void to_f16(void *y, const float *x, int n) {
    fp16_t *h = static_cast<fp16_t *>(y);
    for (int i = 0; i < n; i++) h[i] = f2h(x[i]);
}

void matvec_f16(float *out, const void *xh, const void *w, int n, int d) {
    matvec_half(out, xh, w, n, d, h2f8, h2f);
}

void attention_f16(float *out, float *att, const float *q, const void *key_cache, const void *value_cache,
                   int pos, int n_heads, int n_kv_heads, int head_size) {
    const fp16_t *kc = static_cast<const fp16_t *>(key_cache);
    const fp16_t *vc = static_cast<const fp16_t *>(value_cache);
    const int kv_dim = n_kv_heads * head_size, kv_mul = n_heads / n_kv_heads, len = pos + 1;
    const float scale = 1.0f / sqrtf(float(head_size));
    for (int h = 0; h < n_heads; h++) {
        const float *qh = q + size_t(h) * head_size;
        const size_t koff = size_t(h / kv_mul) * head_size;
        float *ah = att + size_t(h) * len;
        float max = -INFINITY;
        for (int t = 0; t < len; t++) {
            const fp16_t *kt = kc + size_t(t) * kv_dim + koff;
            float s = 0.0f;
            for (int i = 0; i < head_size; i++) s += h2f(kt[i]) * h2f(f2h(qh[i]));
            ah[t] = s * scale;
            max = ah[t] > max ? ah[t] : max;
        }
        float sum = 0.0f;
        for (int t = 0; t < len; t++) {
            ah[t] = expf(ah[t] - max);
            sum += ah[t];
        }
        const float inv = 1.0f / sum;
        for (int t = 0; t < len; t++) ah[t] = h2f(f2h(ah[t] * inv));
        float *oh = out + size_t(h) * head_size;
        for (int i = 0; i < head_size; i++) oh[i] = 0.0f;
        for (int t = 0; t < len; t++) {
            const fp16_t *vt = vc + size_t(t) * kv_dim + koff;
            for (int i = 0; i < head_size; i++) oh[i] += ah[t] * h2f(vt[i]);
        }
    }
}

}  // namespace bf::kern
