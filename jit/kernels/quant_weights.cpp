// Weight quantization as llama-quantize writes files (the `quantize` command, app/llm/convert.cpp):
// Q8_0, Q4_0, Q5_0 and Q4_K rows, byte for byte (tests/unit/llm/convert_test.cpp requantizes the
// shared syn3M files). Declarations: quant.h.
#include "quant.h"

#include <math.h>
#include <string.h>

#include "no_contract.h"

namespace bf::kern::quant {

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

}  // namespace bf::kern::quant
