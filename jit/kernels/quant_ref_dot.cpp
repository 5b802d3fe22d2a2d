// Reference activation quantizers (Q8_1, Q8_K) and the registry's reference twins for the weight
// types after Q8_0/Q4_0/Q5_0 (kernels.def): Q4_1, Q5_1, the K-quants, BF16.
//
// The twins do not unpack bits themselves: they recover each block's integers through the
// reference dequantization (quant_ref.cpp, bit-exact against gguf-py) by setting the block's
// scales to 1 or 0, then apply ggml's per-block formula. With d = 1 and min/dmin = 0 a value
// dequantizes to its integer times its integer sub-scale (exact in fp32); with d = 0 and
// dmin = 1 to minus its sub-min. So the kernels' unpacking (qmatvec*.cpp) is checked against an
// independent reading of the layouts.
#include "kernels.h"
#include "quant.h"

#include <math.h>
#include <string.h>

#include "no_contract.h"

namespace bf::kern::quant {

void quantize_row_q8_1(const float *x, block_q8_1 *y, int64_t n) {
    for (int64_t i = 0; i < n / QK8_1; i++, x += QK8_1) {
        float amax = 0.0f;
        for (int j = 0; j < QK8_1; j++) amax = fmaxf(amax, fabsf(x[j]));
        const float d = amax / 127.0f;
        const float id = amax != 0.0f ? 127.0f / amax : 0.0f;
        block_q8_1 b;
        b.d = fp32_to_fp16(d);
        int sum = 0;
        for (int j = 0; j < QK8_1; j++) {
            b.qs[j] = to_q8(round_nearest_even(x[j] * id));
            sum += b.qs[j];
        }
        b.s = fp32_to_fp16(d * (float)sum);
        memcpy(&y[i], &b, sizeof b);
    }
}

void quantize_row_q8_K(const float *x, block_q8_K *y, int64_t n) {
    for (int64_t i = 0; i < n / QK_K; i++, x += QK_K) {
        block_q8_K b;
        memset(&b, 0, sizeof b);
        float max = 0.0f, amax = 0.0f;
        for (int j = 0; j < QK_K; j++)
            if (fabsf(x[j]) > amax) {
                amax = fabsf(x[j]);
                max = x[j];
            }
        if (amax != 0.0f) {
            const float iscale = -127.0f / max;
            for (int j = 0; j < QK_K; j++) b.qs[j] = to_q8(round_nearest_even(iscale * x[j]));
            for (int j = 0; j < QK_K; j++) b.bsums[j / 16] = (int16_t)(b.bsums[j / 16] + b.qs[j]);
            b.d = 1.0f / iscale;
        }
        memcpy(&y[i], &b, sizeof b);
    }
}

}  // namespace bf::kern::quant

namespace bf::kern::ref {

using namespace quant;

namespace {

template <typename B>
B load(const void *base, size_t i) {
    B b;
    memcpy(&b, static_cast<const uint8_t *>(base) + i * sizeof(B), sizeof b);
    return b;
}

// The block's values dequantized with its scales replaced: d (and, for the types that have one,
// the min m or dmin) set to the given values.
template <typename Block>
void dequant_with(Block b, uint32_t type, float d, float min, float *row, int count) {
    b.d = fp32_to_fp16(d);
    if constexpr (requires { b.m; }) b.m = fp32_to_fp16(min);
    if constexpr (requires { b.dmin; }) b.dmin = fp32_to_fp16(min);
    dequantize_row(type, &b, row, count);
}

// Q4_1/Q5_1: per block sumi = sum q_w * q_x, then (d_w * d_x) * sumi + m_w * s_x (ggml's
// vec_dot_q4_1_q8_1 / q5_1).
template <typename Block>
void matvec_1(float *out, const void *xq, const void *w, int n, int d, uint32_t type) {
    const int nb = n / QK8_1;
    float row[QK8_1];
    for (int i = 0; i < d; i++) {
        float sum = 0.0f;
        for (int b = 0; b < nb; b++) {
            const Block wb = load<Block>(w, size_t(i) * nb + b);
            const block_q8_1 xb = load<block_q8_1>(xq, b);
            dequant_with(wb, type, 1.0f, 0.0f, row, QK8_1);
            int sumi = 0;
            for (int j = 0; j < QK8_1; j++) sumi += int(row[j]) * xb.qs[j];
            sum += (fp16_to_fp32(wb.d) * fp16_to_fp32(xb.d)) * float(sumi) + fp16_to_fp32(wb.m) * fp16_to_fp32(xb.s);
        }
        out[i] = sum;
    }
}

// K-quants: isum = sum over values of (scale * q) * q_x; summs = sum over 16-value groups of
// min * bsum; per super-block (d_w * d_x) * isum - (dmin_w * d_x) * summs.
template <typename Block>
void matvec_k(float *out, const void *xq, const void *w, int n, int d, uint32_t type) {
    const int nb = n / QK_K;
    float scaled[QK_K], mins[QK_K];
    for (int i = 0; i < d; i++) {
        float sum = 0.0f;
        for (int b = 0; b < nb; b++) {
            const Block wb = load<Block>(w, size_t(i) * nb + b);
            const block_q8_K xb = load<block_q8_K>(xq, b);
            dequant_with(wb, type, 1.0f, 0.0f, scaled, QK_K);
            int isum = 0, summs = 0;
            for (int j = 0; j < QK_K; j++) isum += int(scaled[j]) * xb.qs[j];
            float dmin = 0.0f;
            if constexpr (requires { wb.dmin; }) {
                dequant_with(wb, type, 0.0f, 1.0f, mins, QK_K);  // -min of each value's group
                for (int g = 0; g < QK_K / 16; g++) summs += -int(mins[16 * g]) * xb.bsums[g];
                dmin = fp16_to_fp32(wb.dmin);
            }
            sum += (fp16_to_fp32(wb.d) * xb.d) * float(isum) - (dmin * xb.d) * float(summs);
        }
        out[i] = sum;
    }
}

}  // namespace

void quantize_q8_1(void *y, const float *x, int n) { quantize_row_q8_1(x, static_cast<block_q8_1 *>(y), n); }
void quantize_q8_k(void *y, const float *x, int n) { quantize_row_q8_K(x, static_cast<block_q8_K *>(y), n); }

void matvec_q4_1(float *out, const void *xq, const void *w, int n, int d) { matvec_1<block_q4_1>(out, xq, w, n, d, Q4_1); }
void matvec_q5_1(float *out, const void *xq, const void *w, int n, int d) { matvec_1<block_q5_1>(out, xq, w, n, d, Q5_1); }
void matvec_q2_k(float *out, const void *xq, const void *w, int n, int d) { matvec_k<block_q2_K>(out, xq, w, n, d, Q2_K); }
void matvec_q3_k(float *out, const void *xq, const void *w, int n, int d) { matvec_k<block_q3_K>(out, xq, w, n, d, Q3_K); }
void matvec_q4_k(float *out, const void *xq, const void *w, int n, int d) { matvec_k<block_q4_K>(out, xq, w, n, d, Q4_K); }
void matvec_q5_k(float *out, const void *xq, const void *w, int n, int d) { matvec_k<block_q5_K>(out, xq, w, n, d, Q5_K); }
void matvec_q6_k(float *out, const void *xq, const void *w, int n, int d) { matvec_k<block_q6_K>(out, xq, w, n, d, Q6_K); }

void to_bf16(void *y, const float *x, int n) {
    for (int i = 0; i < n; i++) static_cast<bf16_t *>(y)[i] = fp32_to_bf16(x[i]);
}

void matvec_bf16(float *out, const void *xb, const void *w, int n, int d) {
    const bf16_t *x = static_cast<const bf16_t *>(xb), *wr = static_cast<const bf16_t *>(w);
    for (int i = 0; i < d; i++) {
        float sum = 0.0f;
        for (int j = 0; j < n; j++) sum += bf16_to_fp32(wr[size_t(i) * n + j]) * bf16_to_fp32(x[j]);
        out[i] = sum;
    }
}

}  // namespace bf::kern::ref

// The prompt path's reference: one matvec per position (an activation row is the n values in
// the matvec's activation format).
namespace bf::kern::ref {
using namespace quant;
#define BF_REF_MATMAT(type, row_bytes)                                                             \
    void matmat_##type(float *out, const void *xq, const void *w, int n, int d, int m) {           \
        for (int p = 0; p < m; p++)                                                                \
            matvec_##type(out + size_t(p) * size_t(d), static_cast<const char *>(xq) + size_t(p) * (row_bytes), w, n, d); \
    }
BF_REF_MATMAT(q8_0, size_t(n / QK8_0) * sizeof(block_q8_0))
BF_REF_MATMAT(q4_0, size_t(n / QK8_0) * sizeof(block_q8_0))
BF_REF_MATMAT(q4_0x8, size_t(n / QK8_0) * sizeof(block_q8_0))
BF_REF_MATMAT(q5_0, size_t(n / QK8_0) * sizeof(block_q8_0))
BF_REF_MATMAT(q4_1, size_t(n / QK8_1) * sizeof(block_q8_1))
BF_REF_MATMAT(q5_1, size_t(n / QK8_1) * sizeof(block_q8_1))
BF_REF_MATMAT(q2_k, size_t(n / QK_K) * sizeof(block_q8_K))
BF_REF_MATMAT(q3_k, size_t(n / QK_K) * sizeof(block_q8_K))
BF_REF_MATMAT(q4_k, size_t(n / QK_K) * sizeof(block_q8_K))
BF_REF_MATMAT(q5_k, size_t(n / QK_K) * sizeof(block_q8_K))
BF_REF_MATMAT(q6_k, size_t(n / QK_K) * sizeof(block_q8_K))
BF_REF_MATMAT(f16, size_t(n) * 2)
BF_REF_MATMAT(bf16, size_t(n) * 2)
#undef BF_REF_MATMAT
}  // namespace bf::kern::ref
