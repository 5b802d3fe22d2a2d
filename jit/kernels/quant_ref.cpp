// Reference dequantization (see quant.h). Each value is computed with the same float operations,
// in the same order, as gguf-py's numpy code and ggml's C reference: the scale products first
// (d * sub-scale, dmin * sub-min, all in fp32), then one multiply and one add or subtract per
// value. No fused multiply-add: a fused q * d + m rounds once instead of twice and differs.
#include "kernels.h"
#include "quant.h"

#include <math.h>
#include <string.h>

// Both compilers fuse a * b + c into an FMA when the target has one (GCC even under -std=c++20):
// switch that off for this file.
#if defined(__clang__)
#pragma clang fp contract(off)
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

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
    case Q2_K: case Q3_K: case Q4_K: case Q5_K: case Q6_K: return QK_K;
    default: return 0;
    }
}

int block_bytes(uint32_t type) {
    switch (type) {
    case F32: return 4;
    case F16: case BF16: return 2;
    case Q4_0: return sizeof(block_q4_0);
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

// ---- Weight quantization (llama-quantize's reference rows) ------------------------------------
// The float operations are ggml's quantize_row_*_ref ones in the same order, so a file written
// here matches llama-quantize byte for byte: the scale is derived from amax (Q8_0) or the signed
// value of largest magnitude (Q4_0), its reciprocal multiplies each value, Q8_0 rounds with roundf
// (ties away from zero), Q4_0 adds 8.5 and truncates. NaN weights give 0 (Q8_0) / nibble 0 (Q4_0)
// where ggml's C would hit an undefined cast.

void quantize_row_q8_0_weights(const float *x, block_q8_0 *y, int64_t n) {
    for (int64_t i = 0; i < n / QK8_0; i++, x += QK8_0) {
        float amax = 0.0f;
        for (int j = 0; j < QK8_0; j++) amax = amax > fabsf(x[j]) ? amax : fabsf(x[j]);  // ggml's MAX
        const float d = amax / 127.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        block_q8_0 b;
        b.d = fp32_to_fp16(d);
        for (int j = 0; j < QK8_0; j++) b.qs[j] = to_q8(roundf(x[j] * id));
        memcpy(&y[i], &b, sizeof b);
    }
}

// Q4_0 and Q5_0 (ggml's quantize_row_q4_0_ref / _q5_0_ref): d = m / -(2^(bits-1)) with m the
// value of largest magnitude, q = min(2^bits - 1, (int8_t)(x / d + 2^(bits-1) + 0.5)); for
// finite weights x / d is within [-2^(bits-1), 2^(bits-1)], so the cast never overflows.
template <int Bits>
void quantize_offset_block(const float *x, fp16_t &d_out, uint8_t *qs, uint32_t *qh) {
    constexpr float half = float(1 << (Bits - 1));
    constexpr int top = (1 << Bits) - 1;
    auto level = [](float v) -> uint8_t {
        const float t = v + (half + 0.5f);
        if (!(t >= 0.0f)) return 0;
        return t >= float(top) ? uint8_t(top) : uint8_t(t);
    };
    float amax = 0.0f, max = 0.0f;
    for (int j = 0; j < 32; j++)
        if (amax < fabsf(x[j])) {
            amax = fabsf(x[j]);
            max = x[j];
        }
    const float d = max / -half;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    d_out = fp32_to_fp16(d);
    uint32_t h = 0;
    for (int j = 0; j < 16; j++) {
        const uint8_t a = level(x[j] * id), b = level(x[16 + j] * id);
        qs[j] = uint8_t((a & 15) | (b & 15) << 4);
        h |= uint32_t(a >> 4) << j | uint32_t(b >> 4) << (j + 16);
    }
    if (qh) *qh = h;
}

void quantize_row_q4_0_weights(const float *x, block_q4_0 *y, int64_t n) {
    for (int64_t i = 0; i < n / QK4_0; i++, x += QK4_0) {
        block_q4_0 b;
        quantize_offset_block<4>(x, b.d, b.qs, nullptr);
        memcpy(&y[i], &b, sizeof b);
    }
}

void quantize_row_q5_0_weights(const float *x, block_q5_0 *y, int64_t n) {
    for (int64_t i = 0; i < n / QK5_0; i++, x += QK5_0) {
        block_q5_0 b;
        uint32_t qh;
        quantize_offset_block<5>(x, b.d, b.qs, &qh);
        memcpy(b.qh, &qh, 4);
        memcpy(&y[i], &b, sizeof b);
    }
}

// Q4_K weights as llama-quantize writes them (ggml's quantize_row_q4_K_ref, without an
// importance matrix): per 32-value sub-block a scale and a min fitted by a weighted search over
// 21 candidate scales (ggml's make_qkx2_quants: weights av + |x|, av the block's RMS), then the 8
// scales and 8 mins quantized to 6 bits against the super-block's largest of each, and the
// values re-rounded with the 6-bit scales.
namespace {

int nearest(float v) { return int(round_nearest_even(v)); }

// Fits x ~ scale * L + min (min <= 0, L in [0, nmax]); returns scale, sets -min.
float fit_scale_min(int n, int nmax, const float *x, const float *w, uint8_t *L, float *neg_min) {
    float min = x[0], max = x[0], sum_w = w[0], sum_x = w[0] * x[0];
    for (int i = 1; i < n; i++) {
        min = x[i] < min ? x[i] : min;
        max = x[i] > max ? x[i] : max;
        sum_w += w[i];
        sum_x += w[i] * x[i];
    }
    if (min > 0) min = 0;
    if (max == min) {
        for (int i = 0; i < n; i++) L[i] = 0;
        *neg_min = -min;
        return 0.0f;
    }
    float iscale = float(nmax) / (max - min), scale = 1 / iscale, best = 0;
    for (int i = 0; i < n; i++) {
        const int l = nearest(iscale * (x[i] - min));
        L[i] = uint8_t(l < 0 ? 0 : l > nmax ? nmax : l);
        const float diff = scale * L[i] + min - x[i];
        best += w[i] * (diff * diff);
    }
    uint8_t Laux[32];
    for (int is = 0; is <= 20; is++) {
        iscale = (-1.0f + 0.1f * float(is) + float(nmax)) / (max - min);
        float sum_l = 0, sum_l2 = 0, sum_xl = 0;
        for (int i = 0; i < n; i++) {
            int l = nearest(iscale * (x[i] - min));
            l = l < 0 ? 0 : l > nmax ? nmax : l;
            Laux[i] = uint8_t(l);
            sum_l += w[i] * float(l);
            sum_l2 += w[i] * float(l) * float(l);
            sum_xl += w[i] * float(l) * x[i];
        }
        const float D = sum_w * sum_l2 - sum_l * sum_l;
        if (D > 0) {
            float this_scale = (sum_w * sum_xl - sum_x * sum_l) / D;
            float this_min = (sum_l2 * sum_x - sum_l * sum_xl) / D;
            if (this_min > 0) {
                this_min = 0;
                this_scale = sum_xl / sum_l2;
            }
            float err = 0;
            for (int i = 0; i < n; i++) {
                const float diff = this_scale * Laux[i] + this_min - x[i];
                err += w[i] * (diff * diff);
            }
            if (err < best) {
                for (int i = 0; i < n; i++) L[i] = Laux[i];
                best = err;
                scale = this_scale;
                min = this_min;
            }
        }
    }
    *neg_min = -min;
    return scale;
}

}  // namespace

void quantize_row_q4_K_weights(const float *x, block_q4_K *y, int64_t n) {
    for (int64_t i = 0; i < n / QK_K; i++, x += QK_K) {
        uint8_t L[QK_K];
        float scales[8], mins[8], w[32], max_scale = 0, max_min = 0;
        for (int j = 0; j < 8; j++) {
            float sum_x2 = 0;
            for (int l = 0; l < 32; l++) sum_x2 += x[32 * j + l] * x[32 * j + l];
            const float av = sqrtf(sum_x2 / 32);
            for (int l = 0; l < 32; l++) w[l] = av + fabsf(x[32 * j + l]);
            scales[j] = fit_scale_min(32, 15, x + 32 * j, w, L + 32 * j, &mins[j]);
            max_scale = scales[j] > max_scale ? scales[j] : max_scale;
            max_min = mins[j] > max_min ? mins[j] : max_min;
        }
        block_q4_K b;
        memset(&b, 0, sizeof b);
        const float inv_scale = max_scale > 0 ? 63.0f / max_scale : 0.0f;
        const float inv_min = max_min > 0 ? 63.0f / max_min : 0.0f;
        for (int j = 0; j < 8; j++) {
            int ls = nearest(inv_scale * scales[j]), lm = nearest(inv_min * mins[j]);
            ls = ls > 63 ? 63 : ls;
            lm = lm > 63 ? 63 : lm;
            if (j < 4) {
                b.scales[j] = uint8_t(ls);
                b.scales[j + 4] = uint8_t(lm);
            } else {  // the layout scale_min_k4 reads back
                b.scales[j + 4] = uint8_t((ls & 0xf) | ((lm & 0xf) << 4));
                b.scales[j - 4] |= uint8_t((ls >> 4) << 6);
                b.scales[j] |= uint8_t((lm >> 4) << 6);
            }
        }
        b.d = fp32_to_fp16(max_scale / 63.0f);
        b.dmin = fp32_to_fp16(max_min / 63.0f);
        for (int j = 0; j < 8; j++) {
            int sc, m;
            scale_min_k4(j, b.scales, sc, m);
            const float d = fp16_to_fp32(b.d) * float(sc);
            if (d == 0.0f) continue;
            const float dm = fp16_to_fp32(b.dmin) * float(m);
            for (int l = 0; l < 32; l++) {
                const int q = nearest((x[32 * j + l] + dm) / d);
                L[32 * j + l] = uint8_t(q < 0 ? 0 : q > 15 ? 15 : q);
            }
        }
        for (int j = 0; j < QK_K / 64; j++)
            for (int l = 0; l < 32; l++) b.qs[32 * j + l] = uint8_t(L[64 * j + l] | (L[64 * j + 32 + l] << 4));
        memcpy(&y[i], &b, sizeof b);
    }
}

bool quantize_row_weights(uint32_t type, const float *src, void *dst, int64_t n) {
    if (n < 0) return false;
    switch (type) {
    case F32: memcpy(dst, src, size_t(n) * sizeof(float)); return true;
    case Q8_0:
        if (n % QK8_0) return false;
        quantize_row_q8_0_weights(src, static_cast<block_q8_0 *>(dst), n);
        return true;
    case Q4_0:
        if (n % QK4_0) return false;
        quantize_row_q4_0_weights(src, static_cast<block_q4_0 *>(dst), n);
        return true;
    case Q5_0:
        if (n % QK5_0) return false;
        quantize_row_q5_0_weights(src, static_cast<block_q5_0 *>(dst), n);
        return true;
    case Q4_K:
        if (n % QK_K) return false;
        quantize_row_q4_K_weights(src, static_cast<block_q4_K *>(dst), n);
        return true;
    default: return false;
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
template <typename Block>
static void matvec_ref(float *out, const void *xq, const void *w, int n, int d, uint32_t type) {
    const block_q8_0 *x = static_cast<const block_q8_0 *>(xq);
    const int nb = n / QK8_0;
    float row[QK8_0];
    for (int i = 0; i < d; i++) {
        float sum = 0.0f;
        for (int b = 0; b < nb; b++) {
            Block wb;
            memcpy(&wb, static_cast<const Block *>(w) + size_t(i) * nb + b, sizeof wb);
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

void matvec_q8_0(float *out, const void *xq, const void *w, int n, int d) {
    matvec_ref<block_q8_0>(out, xq, w, n, d, Q8_0);
}
void matvec_q4_0(float *out, const void *xq, const void *w, int n, int d) {
    matvec_ref<block_q4_0>(out, xq, w, n, d, Q4_0);
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
                   int n_heads, int n_kv_heads, int head_size) {
    const fp16_t *kc = static_cast<const fp16_t *>(key_cache), *vc = static_cast<const fp16_t *>(value_cache);
    const int kv_dim = n_kv_heads * head_size, kv_mul = n_heads / n_kv_heads;
    for (int h = 0; h < n_heads; h++) {
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
