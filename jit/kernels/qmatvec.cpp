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

// Row by row, block by block: unpack a weight block's 32 integer values, take their integer dot
// product with the activation block, and let `scale` turn it into the block's float term
// (sumi * d_w * d_x, plus m_w * s_x for the types with a min).
template <typename Block, typename XBlock, typename Unpack, typename Scale>
void matvec_blocks(float *out, const void *xq, const void *w, int n, int d, Unpack unpack, Scale scale) {
    const int nb = n / QK8_0;
    const XBlock *x = static_cast<const XBlock *>(xq);
    const Block *rows = static_cast<const Block *>(w);
    for (int i = 0; i < d; i++) {
        const Block *r = rows + size_t(i) * nb;
        float sum = 0.0f;
        for (int b = 0; b < nb; b++) {
            int8_t v[QK8_0];
            unpack(r[b], v);
            sum += scale(dot_i8<QK8_0>(v, x[b].qs), r[b], x[b]);
        }
        out[i] = sum;
    }
}

// Q4_0/Q5_0/Q8_0 against Q8_0: sumi * (d_w * d_x).
template <typename Block, typename Unpack>
void matvec_q8_0_family(float *out, const void *xq, const void *w, int n, int d, Unpack unpack) {
    matvec_blocks<Block, block_q8_0>(out, xq, w, n, d, unpack, [](int sumi, const Block &wb, const block_q8_0 &xb) {
        return float(sumi) * (h2f(wb.d) * h2f(xb.d));
    });
}

// Q4_1/Q5_1 against Q8_1, ggml's order: (d_w * d_x) * sumi + m_w * s_x.
template <typename Block, typename Unpack>
void matvec_q8_1_family(float *out, const void *xq, const void *w, int n, int d, Unpack unpack) {
    matvec_blocks<Block, block_q8_1>(out, xq, w, n, d, unpack, [](int sumi, const Block &wb, const block_q8_1 &xb) {
        return (h2f(wb.d) * h2f(xb.d)) * float(sumi) + h2f(wb.m) * h2f(xb.s);
    });
}

// 4-bit values (low nibbles are values 0-15, high nibbles 16-31), optionally a fifth bit from
// qh, minus an offset (8 or 16 for the _0 types; 0 for the _1 types, which have a min instead).
template <int Offset>
void unpack4(const uint8_t *qs, int8_t *v) {
    for (int j = 0; j < 16; j++) {
        v[j] = int8_t((qs[j] & 15) - Offset);
        v[j + 16] = int8_t((qs[j] >> 4) - Offset);
    }
}
template <int Offset>
void unpack5(const uint8_t *qs, const uint8_t *qh_bytes, int8_t *v) {
    uint32_t qh;
    memcpy(&qh, qh_bytes, 4);
    for (int j = 0; j < 16; j++) {
        v[j] = int8_t(((qs[j] & 15) | (((qh >> j) & 1) << 4)) - Offset);
        v[j + 16] = int8_t(((qs[j] >> 4) | (((qh >> (j + 16)) & 1) << 4)) - Offset);
    }
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
    matvec_q8_0_family<block_q8_0>(out, xq, w, n, d, [](const block_q8_0 &b, int8_t *v) { memcpy(v, b.qs, QK8_0); });
}

void matvec_q4_0(float *out, const void *xq, const void *w, int n, int d) {
    matvec_q8_0_family<block_q4_0>(out, xq, w, n, d, [](const block_q4_0 &b, int8_t *v) { unpack4<8>(b.qs, v); });
}

void matvec_q5_0(float *out, const void *xq, const void *w, int n, int d) {
    matvec_q8_0_family<block_q5_0>(out, xq, w, n, d, [](const block_q5_0 &b, int8_t *v) { unpack5<16>(b.qs, b.qh, v); });
}

void matvec_q4_1(float *out, const void *xq, const void *w, int n, int d) {
    matvec_q8_1_family<block_q4_1>(out, xq, w, n, d, [](const block_q4_1 &b, int8_t *v) { unpack4<0>(b.qs, v); });
}

void matvec_q5_1(float *out, const void *xq, const void *w, int n, int d) {
    matvec_q8_1_family<block_q5_1>(out, xq, w, n, d, [](const block_q5_1 &b, int8_t *v) { unpack5<0>(b.qs, b.qh, v); });
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

void matvec_bf16(float *out, const void *xb, const void *w, int n, int d) {
    const uint16_t *x = static_cast<const uint16_t *>(xb);
    for (int i = 0; i < d; i++) {
        const uint16_t *r = static_cast<const uint16_t *>(w) + size_t(i) * n;
        float sum = 0.0f;
        for (int j = 0; j < n; j++) {
            const uint32_t a = uint32_t(r[j]) << 16, b = uint32_t(x[j]) << 16;
            float fa, fb;
            memcpy(&fa, &a, 4);
            memcpy(&fb, &b, 4);
            sum += fa * fb;
        }
        out[i] = sum;
    }
}

void to_f16(void *y, const float *x, int n) {
    fp16_t *h = static_cast<fp16_t *>(y);
    for (int i = 0; i < n; i++) h[i] = f2h(x[i]);
}

void matvec_f16(float *out, const void *xh, const void *w, int n, int d) {
    const fp16_t *x = static_cast<const fp16_t *>(xh);
    for (int i = 0; i < d; i++) {
        const fp16_t *r = static_cast<const fp16_t *>(w) + size_t(i) * n;
        float sum = 0.0f;
        for (int j = 0; j < n; j++) sum += h2f(r[j]) * h2f(x[j]);
        out[i] = sum;
    }
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
