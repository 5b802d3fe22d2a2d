// Reference dequantization (see quant.h). Each value is computed with the same float operations,
// in the same order, as gguf-py's numpy code and ggml's C reference: the scale products first
// (d * sub-scale, dmin * sub-min, all in fp32), then one multiply and one add or subtract per
// value. No fused multiply-add: a fused q * d + m rounds once instead of twice and differs.
#include "kernels.h"
#include "quant.h"

#include <math.h>
#include <string.h>

#include "no_contract.h"

namespace bf::kern::quant {

namespace {

uint32_t f32_bits(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

float bits_f32(uint32_t u) {
    float f;
    memcpy(&f, &u, 4);
    return f;
}

template <typename B>
B load_block(const void *src, int64_t i) {
    B b;
    memcpy(&b, static_cast<const uint8_t *>(src) + i * (int64_t)sizeof(B), sizeof(B));
    return b;
}

float h2f(fp16_t h) { return fp16_to_fp32(h); }

}  // namespace

// ---- fp16 / bf16 -------------------------------------------------------------------------------

float bf16_to_fp32(bf16_t h) { return bits_f32((uint32_t)h << 16); }

bf16_t fp32_to_bf16(float f) {
    const uint32_t u = f32_bits(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (bf16_t)((u >> 16) | 0x40);  // quiet NaN
    return (bf16_t)((u + 0x7fffu + ((u >> 16) & 1)) >> 16);
}

// ---- block sizes -------------------------------------------------------------------------------

int block_size(uint32_t type) {
    switch (type) {
    case F32: case F16: case BF16: return 1;
    case Q4_0: case Q4_1: case Q5_0: case Q5_1: case Q8_0: return 32;
    case Q2_K: case Q3_K: case Q4_K: case Q5_K: case Q6_K: case Q4_0_X8: return QK_K;
    default: return 0;
    }
}

int block_bytes(uint32_t type) {
    switch (type) {
    case F32: return 4;
    case F16: case BF16: return 2;
    case Q4_0: return sizeof(block_q4_0);
    case Q4_0_X8: return sizeof(block_q4_0x8);
    case Q4_1: return sizeof(block_q4_1);
    case Q5_0: return sizeof(block_q5_0);
    case Q5_1: return sizeof(block_q5_1);
    case Q8_0: return sizeof(block_q8_0);
    case Q2_K: return sizeof(block_q2_K);
    case Q3_K: return sizeof(block_q3_K);
    case Q4_K: return sizeof(block_q4_K);
    case Q5_K: return sizeof(block_q5_K);
    case Q6_K: return sizeof(block_q6_K);
    default: return 0;
    }
}

// ---- 16-bit floats -----------------------------------------------------------------------------

void dequantize_row_f16(const void *src, float *dst, int64_t n) {
    const uint8_t *p = static_cast<const uint8_t *>(src);
    for (int64_t i = 0; i < n; i++) {
        fp16_t h;
        memcpy(&h, p + 2 * i, 2);
        dst[i] = fp16_to_fp32(h);
    }
}

void dequantize_row_bf16(const void *src, float *dst, int64_t n) {
    const uint8_t *p = static_cast<const uint8_t *>(src);
    for (int64_t i = 0; i < n; i++) {
        bf16_t h;
        memcpy(&h, p + 2 * i, 2);
        dst[i] = bf16_to_fp32(h);
    }
}

// ---- 32-value blocks ---------------------------------------------------------------------------

void dequantize_row_q4_0(const void *src, float *dst, int64_t n) {
    for (int64_t i = 0; i < n / QK4_0; i++, dst += QK4_0) {
        const block_q4_0 b = load_block<block_q4_0>(src, i);
        const float d = h2f(b.d);
        for (int j = 0; j < QK4_0 / 2; j++) {
            dst[j] = (float)((b.qs[j] & 0xf) - 8) * d;
            dst[j + QK4_0 / 2] = (float)((b.qs[j] >> 4) - 8) * d;
        }
    }
}

// Group g's block k as the file stores it.
static block_q4_0 block_of_x8(const block_q4_0x8 &g, int k) {
    block_q4_0 b;
    for (int j = 0; j < 8; j++)
        if (kQ4_0X8Order[j] == k) b.d = g.d[j];
    memcpy(b.qs, g.qs[k], sizeof b.qs);
    return b;
}

void dequantize_row_q4_0x8(const void *src, float *dst, int64_t n) {
    for (int64_t i = 0; i < n / QK_K; i++) {
        const block_q4_0x8 g = load_block<block_q4_0x8>(src, i);
        for (int k = 0; k < 8; k++, dst += QK4_0) {
            const block_q4_0 b = block_of_x8(g, k);
            dequantize_row_q4_0(&b, dst, QK4_0);
        }
    }
}

bool regroup_q4_0(void *row, int64_t n) {
    if (n <= 0 || n % QK_K) return false;
    for (int64_t i = 0; i < n / QK_K; i++) {
        unsigned char *p = static_cast<unsigned char *>(row) + i * int64_t(sizeof(block_q4_0x8));
        block_q4_0 b[8];
        memcpy(b, p, sizeof b);
        block_q4_0x8 g;
        for (int k = 0; k < 8; k++) {
            g.d[k] = b[kQ4_0X8Order[k]].d;
            memcpy(g.qs[k], b[k].qs, sizeof g.qs[k]);
        }
        memcpy(p, &g, sizeof g);
    }
    return true;
}

void dequantize_row_q4_1(const void *src, float *dst, int64_t n) {
    for (int64_t i = 0; i < n / QK4_1; i++, dst += QK4_1) {
        const block_q4_1 b = load_block<block_q4_1>(src, i);
        const float d = h2f(b.d), m = h2f(b.m);
        for (int j = 0; j < QK4_1 / 2; j++) {
            dst[j] = (float)(b.qs[j] & 0xf) * d + m;
            dst[j + QK4_1 / 2] = (float)(b.qs[j] >> 4) * d + m;
        }
    }
}

void dequantize_row_q5_0(const void *src, float *dst, int64_t n) {
    for (int64_t i = 0; i < n / QK5_0; i++, dst += QK5_0) {
        const block_q5_0 b = load_block<block_q5_0>(src, i);
        const float d = h2f(b.d);
        uint32_t qh;
        memcpy(&qh, b.qh, 4);
        for (int j = 0; j < QK5_0 / 2; j++) {
            const int lo = (b.qs[j] & 0xf) | (int)(((qh >> j) & 1) << 4);
            const int hi = (b.qs[j] >> 4) | (int)(((qh >> (j + 16)) & 1) << 4);
            dst[j] = (float)(lo - 16) * d;
            dst[j + QK5_0 / 2] = (float)(hi - 16) * d;
        }
    }
}

void dequantize_row_q5_1(const void *src, float *dst, int64_t n) {
    for (int64_t i = 0; i < n / QK5_1; i++, dst += QK5_1) {
        const block_q5_1 b = load_block<block_q5_1>(src, i);
        const float d = h2f(b.d), m = h2f(b.m);
        uint32_t qh;
        memcpy(&qh, b.qh, 4);
        for (int j = 0; j < QK5_1 / 2; j++) {
            const int lo = (b.qs[j] & 0xf) | (int)(((qh >> j) & 1) << 4);
            const int hi = (b.qs[j] >> 4) | (int)(((qh >> (j + 16)) & 1) << 4);
            dst[j] = (float)lo * d + m;
            dst[j + QK5_1 / 2] = (float)hi * d + m;
        }
    }
}

void dequantize_row_q8_0(const void *src, float *dst, int64_t n) {
    for (int64_t i = 0; i < n / QK8_0; i++, dst += QK8_0) {
        const block_q8_0 b = load_block<block_q8_0>(src, i);
        const float d = h2f(b.d);
        for (int j = 0; j < QK8_0; j++) dst[j] = (float)b.qs[j] * d;
    }
}

// ---- K-quants ----------------------------------------------------------------------------------
// Within a super-block the values come in two halves of 128 (Q2_K, Q3_K, Q6_K) or four chunks
// of 64 (Q4_K, Q5_K); each half/chunk draws from 32 (or 64) consecutive bytes, taking their
// 2-bit fields (shift 0, 2, 4, 6) or nibbles (shift 0, 4) in turn, 32 values per field.

void dequantize_row_q2_K(const void *src, float *dst, int64_t n) {
    for (int64_t i = 0; i < n / QK_K; i++, dst += QK_K) {
        const block_q2_K b = load_block<block_q2_K>(src, i);
        const float d = h2f(b.d), dmin = h2f(b.dmin);
        for (int v = 0; v < QK_K; v++) {
            const int half = v / 128, field = (v % 128) / 32, l = v % 32;
            const int q = (b.qs[half * 32 + l] >> (2 * field)) & 3;
            const uint8_t sc = b.scales[v / 16];
            const float dl = d * (float)(sc & 0xf), ml = dmin * (float)(sc >> 4);
            dst[v] = dl * (float)q - ml;
        }
    }
}

void dequantize_row_q3_K(const void *src, float *dst, int64_t n) {
    for (int64_t i = 0; i < n / QK_K; i++, dst += QK_K) {
        const block_q3_K b = load_block<block_q3_K>(src, i);
        const float d = h2f(b.d);
        int scale[16];
        for (int k = 0; k < 16; k++) scale[k] = scale_q3_K(b.scales, k);
        for (int v = 0; v < QK_K; v++) {
            const int half = v / 128, field = (v % 128) / 32, l = v % 32;
            const int low = (b.qs[half * 32 + l] >> (2 * field)) & 3;
            const int high = (b.hmask[l] >> (v / 32)) & 1;  // bit v/32 of byte v%32
            const int q = low - (high ? 0 : 4);
            const float dl = d * (float)scale[v / 16];
            dst[v] = dl * (float)q;
        }
    }
}


void dequantize_row_q4_K(const void *src, float *dst, int64_t n) {
    for (int64_t i = 0; i < n / QK_K; i++, dst += QK_K) {
        const block_q4_K b = load_block<block_q4_K>(src, i);
        const float d = h2f(b.d), dmin = h2f(b.dmin);
        for (int v = 0; v < QK_K; v++) {
            const int sub = v / 32, chunk = v / 64, l = v % 32;
            const int q = (b.qs[chunk * 32 + l] >> (4 * (sub % 2))) & 0xf;
            int sc, m;
            scale_min_k4(sub, b.scales, sc, m);
            const float dl = d * (float)sc, ml = dmin * (float)m;
            dst[v] = dl * (float)q - ml;
        }
    }
}

void dequantize_row_q5_K(const void *src, float *dst, int64_t n) {
    for (int64_t i = 0; i < n / QK_K; i++, dst += QK_K) {
        const block_q5_K b = load_block<block_q5_K>(src, i);
        const float d = h2f(b.d), dmin = h2f(b.dmin);
        for (int v = 0; v < QK_K; v++) {
            const int sub = v / 32, chunk = v / 64, l = v % 32;
            const int low = (b.qs[chunk * 32 + l] >> (4 * (sub % 2))) & 0xf;
            const int high = (b.qh[l] >> sub) & 1;  // bit sub of byte l
            int sc, m;
            scale_min_k4(sub, b.scales, sc, m);
            const float dl = d * (float)sc, ml = dmin * (float)m;
            dst[v] = dl * (float)(low | (high << 4)) - ml;
        }
    }
}

void dequantize_row_q6_K(const void *src, float *dst, int64_t n) {
    for (int64_t i = 0; i < n / QK_K; i++, dst += QK_K) {
        const block_q6_K b = load_block<block_q6_K>(src, i);
        const float d = h2f(b.d);
        for (int v = 0; v < QK_K; v++) {
            const int half = v / 128, w = v % 128;
            // Low nibbles: 64 bytes per half, low nibble for w < 64, high nibble above.
            const int low = (b.ql[half * 64 + w % 64] >> (4 * (w / 64))) & 0xf;
            // High 2 bits: 32 bytes per half, 2-bit field w/32.
            const int high = (b.qh[half * 32 + w % 32] >> (2 * (w / 32))) & 3;
            const int q = (low | (high << 4)) - 32;
            const float dl = d * (float)b.scales[v / 16];
            dst[v] = dl * (float)q;
        }
    }
}

// ---- Q8_0 activations and dot product ---------------------------------------------------------

float round_nearest_even(float v) {
    const float f = floorf(v);
    const float frac = v - f;  // exact for |v| < 2^23
    if (frac > 0.5f) return f + 1.0f;
    if (frac < 0.5f) return f;
    return fmodf(f, 2.0f) == 0.0f ? f : f + 1.0f;
}

void quantize_row_q8_0(const float *x, block_q8_0 *y, int64_t n) {
    for (int64_t i = 0; i < n / QK8_0; i++, x += QK8_0) {
        float amax = 0.0f;
        for (int j = 0; j < QK8_0; j++) amax = fmaxf(amax, fabsf(x[j]));
        const float d = amax / 127.0f;
        const float id = amax != 0.0f ? 127.0f / amax : 0.0f;
        block_q8_0 b;
        b.d = fp32_to_fp16(d);
        for (int j = 0; j < QK8_0; j++) b.qs[j] = to_q8(round_nearest_even(x[j] * id));
        memcpy(&y[i], &b, sizeof b);
    }
}

float vec_dot_q8_0_q8_0(const block_q8_0 *x, const block_q8_0 *y, int64_t n) {
    float sum = 0.0f;
    for (int64_t i = 0; i < n / QK8_0; i++) {
        block_q8_0 bx, by;
        memcpy(&bx, &x[i], sizeof bx);
        memcpy(&by, &y[i], sizeof by);
        int sumi = 0;
        for (int j = 0; j < QK8_0; j++) sumi += (int)bx.qs[j] * (int)by.qs[j];
        sum += (float)sumi * (h2f(bx.d) * h2f(by.d));
    }
    return sum;
}

// ---- dispatch ----------------------------------------------------------------------------------

bool dequantize_row(uint32_t type, const void *src, float *dst, int64_t n) {
    const int bs = block_size(type);
    if (bs == 0 || n < 0 || n % bs) return false;
    switch (type) {
    case F32: memcpy(dst, src, (size_t)n * 4); return true;
    case F16: dequantize_row_f16(src, dst, n); return true;
    case BF16: dequantize_row_bf16(src, dst, n); return true;
    case Q4_0: dequantize_row_q4_0(src, dst, n); return true;
    case Q4_0_X8: dequantize_row_q4_0x8(src, dst, n); return true;
    case Q4_1: dequantize_row_q4_1(src, dst, n); return true;
    case Q5_0: dequantize_row_q5_0(src, dst, n); return true;
    case Q5_1: dequantize_row_q5_1(src, dst, n); return true;
    case Q8_0: dequantize_row_q8_0(src, dst, n); return true;
    case Q2_K: dequantize_row_q2_K(src, dst, n); return true;
    case Q3_K: dequantize_row_q3_K(src, dst, n); return true;
    case Q4_K: dequantize_row_q4_K(src, dst, n); return true;
    case Q5_K: dequantize_row_q5_K(src, dst, n); return true;
    case Q6_K: dequantize_row_q6_K(src, dst, n); return true;
    default: return false;
    }
}

}  // namespace bf::kern::quant

// ---- the registry's reference twins (kernels.def) ----------------------------------------------

namespace bf::kern::ref {

using namespace quant;

void quantize_q8_0(void *y, const float *x, int n) { quantize_row_q8_0(x, static_cast<block_q8_0 *>(y), n); }

// Row i of W against xq, through the dequantized integer values: the same per-block integer sums
// as matvec_q*_0, written as the textbook formula.
// block(i, b): row i's block b as the file stores it.
template <typename Block, typename BlockAt>
static void matvec_ref(float *out, const void *xq, int n, int d, uint32_t type, BlockAt block) {
    const block_q8_0 *x = static_cast<const block_q8_0 *>(xq);
    const int nb = n / QK8_0;
    float row[QK8_0];
    for (int i = 0; i < d; i++) {
        float sum = 0.0f;
        for (int b = 0; b < nb; b++) {
            const Block wb = block(i, b);
            block_q8_0 xb;
            memcpy(&xb, &x[b], sizeof xb);
            // Dequantize with d = 1 to recover the integer values exactly.
            Block unit = wb;
            unit.d = fp32_to_fp16(1.0f);
            dequantize_row(type, &unit, row, QK8_0);
            int sumi = 0;
            for (int j = 0; j < QK8_0; j++) sumi += int(row[j]) * int(xb.qs[j]);
            sum += float(sumi) * (fp16_to_fp32(wb.d) * fp16_to_fp32(xb.d));
        }
        out[i] = sum;
    }
}
template <typename Block>
static void matvec_ref(float *out, const void *xq, const void *w, int n, int d, uint32_t type) {
    matvec_ref<Block>(out, xq, n, d, type, [&](int i, int b) {
        return load_block<Block>(w, int64_t(i) * (n / QK8_0) + b);
    });
}

void matvec_q8_0(float *out, const void *xq, const void *w, int n, int d) {
    matvec_ref<block_q8_0>(out, xq, w, n, d, Q8_0);
}
void matvec_q4_0(float *out, const void *xq, const void *w, int n, int d) {
    matvec_ref<block_q4_0>(out, xq, w, n, d, Q4_0);
}
// Q4_0_X8: the blocks back in file order, then Q4_0's reference (the same sums, in the same order).
void matvec_q4_0x8(float *out, const void *xq, const void *w, int n, int d) {
    matvec_ref<block_q4_0>(out, xq, n, d, Q4_0, [&](int i, int b) {
        return block_of_x8(load_block<block_q4_0x8>(w, int64_t(i) * (n / QK_K) + b / 8), b % 8);
    });
}
void matvec_q5_0(float *out, const void *xq, const void *w, int n, int d) {
    matvec_ref<block_q5_0>(out, xq, w, n, d, Q5_0);
}

void to_f16(void *y, const float *x, int n) {
    for (int i = 0; i < n; i++) static_cast<fp16_t *>(y)[i] = fp32_to_fp16(x[i]);
}

void matvec_f16(float *out, const void *xh, const void *w, int n, int d) {
    const fp16_t *x = static_cast<const fp16_t *>(xh);
    for (int i = 0; i < d; i++) {
        float sum = 0.0f;
        for (int j = 0; j < n; j++) sum += fp16_to_fp32(static_cast<const fp16_t *>(w)[size_t(i) * n + j]) * fp16_to_fp32(x[j]);
        out[i] = sum;
    }
}

void attention_f16(float *out, float *att, const float *q, const void *key_cache, const void *value_cache, int pos,
                   int n_heads, int n_kv_heads, int head_size, int h0, int h1) {
    const fp16_t *kc = static_cast<const fp16_t *>(key_cache), *vc = static_cast<const fp16_t *>(value_cache);
    const int kv_dim = n_kv_heads * head_size, kv_mul = n_heads / n_kv_heads;
    for (int h = h0; h < h1; h++) {
        float *a = att + size_t(h) * (pos + 1);
        const size_t off = size_t(h / kv_mul) * head_size;
        for (int t = 0; t <= pos; t++) {
            float s = 0.0f;
            for (int i = 0; i < head_size; i++)
                s += fp16_to_fp32(fp32_to_fp16(q[h * head_size + i])) * fp16_to_fp32(kc[size_t(t) * kv_dim + off + i]);
            a[t] = s * (1.0f / sqrtf(float(head_size)));
        }
        softmax(a, pos + 1);
        for (int t = 0; t <= pos; t++) a[t] = fp16_to_fp32(fp32_to_fp16(a[t]));
        for (int i = 0; i < head_size; i++) {
            float s = 0.0f;
            for (int t = 0; t <= pos; t++) s += a[t] * fp16_to_fp32(vc[size_t(t) * kv_dim + off + i]);
            out[h * head_size + i] = s;
        }
    }
}

}  // namespace bf::kern::ref
