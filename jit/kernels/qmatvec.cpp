// Kernels over quantized (GGUF) weights and the fp16 KV cache: the registry rows after the fp32
// ones in kernels.def. Portable C++ like the other kernels (kern_detail.h), no library calls:
// the JIT compiles them too. Correct first: per-block integer dot products in plain loops that
// LLVM vectorizes; the register-blocked versions are the quantized-kernels issue.
//
// Numerics follow llama.cpp's CPU backend (the reference texts in ../shared come from it): the
// activations are quantized once per matvec to Q8_0 (or rounded to fp16 for F16 weights), each
// block's integer sum is scaled by the product of the two fp16 scales, and blocks are summed in
// fp32. The order of that final sum differs from llama.cpp's SIMD order (as its AVX2 and
// AVX-512 builds differ from each other); the shared texts do not depend on it.
#include "kernels.h"
#include "quant.h"

#include <math.h>
#include <string.h>

namespace bf::kern {
namespace {

using quant::block_q4_0;
using quant::block_q5_0;
using quant::block_q8_0;
using quant::fp16_t;
using quant::QK8_0;

// fp16 conversions: quant.h's inline ones.
inline float h2f(fp16_t h) { return quant::fp16_to_fp32(h); }
inline fp16_t f2h(float f) { return quant::fp32_to_fp16(f); }

// Round to nearest even for |v| < 2^22 by the 1.5 * 2^23 trick (the FPU's default rounding;
// without -ffast-math the compiler may not fold the two operations).
inline float round_even(float v) {
    constexpr float shifter = 12582912.0f;
    return (v + shifter) - shifter;
}

// The integer dot product of one weight block's values (already unpacked to int8) with a Q8_0
// activation block.
inline int dot32(const int8_t *w, const int8_t *x) {
    int s = 0;
    for (int j = 0; j < QK8_0; j++) s += int(w[j]) * int(x[j]);
    return s;
}

template <typename Block, typename Unpack>
void matvec_blocks(float *out, const void *xq, const void *w, int n, int d, Unpack unpack) {
    const int nb = n / QK8_0;
    const block_q8_0 *x = static_cast<const block_q8_0 *>(xq);
    const Block *rows = static_cast<const Block *>(w);
    for (int i = 0; i < d; i++) {
        const Block *r = rows + size_t(i) * nb;
        float sum = 0.0f;
        for (int b = 0; b < nb; b++) {
            int8_t v[QK8_0];
            unpack(r[b], v);
            sum += float(dot32(v, x[b].qs)) * (h2f(r[b].d) * h2f(x[b].d));
        }
        out[i] = sum;
    }
}

}  // namespace

void quantize_q8_0(void *y, const float *x, int n) {
    block_q8_0 *out = static_cast<block_q8_0 *>(y);
    for (int i = 0; i < n / QK8_0; i++, x += QK8_0) {
        float amax = 0.0f;
        for (int j = 0; j < QK8_0; j++) {
            const float a = x[j] < 0 ? -x[j] : x[j];
            amax = a > amax ? a : amax;
        }
        const float id = amax != 0.0f ? 127.0f / amax : 0.0f;
        out[i].d = f2h(amax / 127.0f);
        for (int j = 0; j < QK8_0; j++) out[i].qs[j] = quant::to_q8(round_even(x[j] * id));
    }
}

void matvec_q8_0(float *out, const void *xq, const void *w, int n, int d) {
    matvec_blocks<block_q8_0>(out, xq, w, n, d, [](const block_q8_0 &b, int8_t *v) { memcpy(v, b.qs, QK8_0); });
}

void matvec_q4_0(float *out, const void *xq, const void *w, int n, int d) {
    matvec_blocks<block_q4_0>(out, xq, w, n, d, [](const block_q4_0 &b, int8_t *v) {
        for (int j = 0; j < 16; j++) {
            v[j] = int8_t((b.qs[j] & 15) - 8);
            v[j + 16] = int8_t((b.qs[j] >> 4) - 8);
        }
    });
}

void matvec_q5_0(float *out, const void *xq, const void *w, int n, int d) {
    matvec_blocks<block_q5_0>(out, xq, w, n, d, [](const block_q5_0 &b, int8_t *v) {
        uint32_t qh;
        memcpy(&qh, b.qh, 4);
        for (int j = 0; j < 16; j++) {
            v[j] = int8_t(((b.qs[j] & 15) | (((qh >> j) & 1) << 4)) - 16);
            v[j + 16] = int8_t(((b.qs[j] >> 4) | (((qh >> (j + 16)) & 1) << 4)) - 16);
        }
    });
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
