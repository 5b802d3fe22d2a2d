// The optimized fp32 kernels except sgemm (sgemm.cpp). Contract: kernels.h; oracle: kernels_ref.cpp.
//
// Portable C++ for LLVM's loop and SLP vectorizers, compiled AOT (baseline x86-64, SSE2, -O2)
// and as bitcode the JIT re-optimizes for the host CPU; rules and the BF_KERN_VEC_FLOATS tuning
// macro are described in kern_detail.h. Besides <math.h> (powf, cosf, sinf for rope) no library
// calls; exp is computed inline by exp_lanes() (kern_detail.h) so that softmax, attention and
// swiglu vectorize (a call to expf would keep those loops scalar).
#include "kernels.h"
#include "kern_detail.h"

#include <math.h>
#include <stddef.h>

// The software prefetch distance of the quantized one-position matvecs (qmatvec_detail.h),
// defined here, apart from the files that read it: a file that saw the value would fold it into
// its code, and the JIT's variants (which set it) would change nothing there.
// Its default follows the build (Makefile): 4096 in the avx512 bitcodes (Zen 5, 110M one core,
// tg alternated against 2048: faster in 3 of 3 pairs for Q4_0 and Q4_K, 2 of 3 for Q8_0),
// 2048 elsewhere (Zen 3: no consistent winner; docs/kernels.md).
#ifndef BF_KERN_PREFETCH
#define BF_KERN_PREFETCH 2048
#endif
extern "C" const size_t bf_tune_prefetch_ahead;
extern "C" const size_t bf_tune_prefetch_ahead = BF_KERN_PREFETCH;

namespace bf::kern {
namespace {

using detail::dot;
using detail::exp_lanes;
using detail::hsum;
using detail::kVec;
using detail::softmax_impl;

// o[i] += a * v[i], i < n: one position's share of a head's weighted sum of values.
inline void axpy(float *__restrict o, float a, const float *__restrict v, int n) {
    int i = 0;
    for (; i + kVec <= n; i += kVec)
        BF_LANES(kVec) for (int l = 0; l < kVec; l++) o[i + l] += a * v[i + l];
    for (; i < n; i++) o[i] += a * v[i];
}

}  // namespace

void matvec(float *out, const float *x, const float *w, int n, int d) {
    detail::matvec_impl(out, x, w, n, d);
}

void rmsnorm(float *o, const float *x, const float *weight, int n, float eps) {
    constexpr int V = kVec;
    float acc[V] = {};
    int j = 0;
    for (; j + V <= n; j += V)
        BF_LANES(V) for (int v = 0; v < V; v++) acc[v] += x[j + v] * x[j + v];
    float ss = hsum(acc);
    for (; j < n; j++) ss += x[j] * x[j];
    ss /= float(n);
    ss += eps;
    ss = 1.0f / sqrtf(ss);
    // o may alias x (in-place normalization): element-wise, so that is fine; no __restrict.
    for (j = 0; j < n; j++) o[j] = weight[j] * (ss * x[j]);
}

void softmax(float *x, int n) {
    if (n <= 0) return;
    softmax_impl(x, n);
}

void rope(float *q, float *k, int pos, int dim, int kv_dim, int head_size, float theta, const float *factors) {
    // The rotation angle depends only on i mod head_size: compute cos/sin once per pair of a head
    // (head_size / 2 transcendental pairs instead of dim / 2), exactly as ref::rope does, then
    // rotate every head of q and k with the table.
    constexpr int kMaxPairs = 256;
    if (head_size % 2 != 0 || head_size / 2 > kMaxPairs) {  // not in real models
        for (int i = 0; i < dim; i += 2) {
            const float freq = 1.0f / powf(theta, float(i % head_size) / float(head_size));
            float val = float(pos) * freq;
            if (factors) val /= factors[(i % head_size) / 2];
            const float fr = cosf(val), fi = sinf(val);
            for (int v = 0; v < (i < kv_dim ? 2 : 1); v++) {
                float *vec = v == 0 ? q : k;
                const float v0 = vec[i], v1 = vec[i + 1];
                vec[i] = v0 * fr - v1 * fi;
                vec[i + 1] = v0 * fi + v1 * fr;
            }
        }
        return;
    }
    const int pairs = head_size / 2;
    float fcr[kMaxPairs], fci[kMaxPairs];
    for (int t = 0; t < pairs; t++) {
        const float freq = 1.0f / powf(theta, float(2 * t) / float(head_size));
        float val = float(pos) * freq;
        if (factors) val /= factors[t];
        fcr[t] = cosf(val);
        fci[t] = sinf(val);
    }
    // q: i < dim; k: i < min(dim, kv_dim) (ref walks i < dim and rotates k only below kv_dim).
    for (int v = 0; v < 2; v++) {
        float *__restrict vec = v == 0 ? q : k;
        const int len = v == 0 ? dim : (kv_dim < dim ? kv_dim : dim);
        int base = 0;
        for (; base + head_size <= len; base += head_size) {
            float *__restrict h = vec + base;
            for (int t = 0; t < pairs; t++) {
                const float v0 = h[2 * t], v1 = h[2 * t + 1];
                h[2 * t] = v0 * fcr[t] - v1 * fci[t];
                h[2 * t + 1] = v0 * fci[t] + v1 * fcr[t];
            }
        }
        for (int i = base; i < len; i += 2) {  // a partial last head (not in real models)
            const int t = (i - base) / 2;
            const float v0 = vec[i], v1 = vec[i + 1];
            vec[i] = v0 * fcr[t] - v1 * fci[t];
            vec[i + 1] = v0 * fci[t] + v1 * fcr[t];
        }
    }
}

void rope_neox(float *q, float *k, int pos, int dim, int kv_dim, int head_size, float theta) {
    // The angles of one head, computed once as in rope(), then every whole head of q and k.
    constexpr int kMaxPairs = 256;
    const int pairs = head_size / 2;
    if (pairs > kMaxPairs) return ref::rope_neox(q, k, pos, dim, kv_dim, head_size, theta);  // not in real models
    float fcr[kMaxPairs], fci[kMaxPairs];
    for (int t = 0; t < pairs; t++) {
        const float val = float(pos) * (1.0f / powf(theta, float(2 * t) / float(head_size)));
        fcr[t] = cosf(val);
        fci[t] = sinf(val);
    }
    for (int v = 0; v < 2; v++) {
        float *__restrict vec = v == 0 ? q : k;
        const int len = v == 0 ? dim : kv_dim;
        for (int base = 0; base + head_size <= len; base += head_size) {
            float *__restrict h = vec + base;
            for (int t = 0; t < pairs; t++) {
                const float v0 = h[t], v1 = h[t + pairs];
                h[t] = v0 * fcr[t] - v1 * fci[t];
                h[t + pairs] = v0 * fci[t] + v1 * fcr[t];
            }
        }
    }
}

void attention(float *out, float *att, const float *q, const float *key_cache,
               const float *value_cache, int pos, int n_heads, int n_kv_heads, int head_size, int h0, int h1) {
    const int kv_dim = n_kv_heads * head_size;
    const int kv_mul = n_heads / n_kv_heads;
    const int len = pos + 1;
    const float scale = 1.0f / sqrtf(float(head_size));
    // K, then V, row by row, every head of a row at once: a row's heads lie side by side, so each
    // cache is read as one sequential stream (head by head it was one strided stream per head).
    for (int t = 0; t < len; t++) {
        const float *__restrict kt = key_cache + size_t(t) * kv_dim;
        for (int h = h0; h < h1; h++)
            att[size_t(h) * len + t] = dot(q + size_t(h) * head_size, kt + size_t(h / kv_mul) * head_size, head_size) * scale;
    }
    for (int h = h0; h < h1; h++) softmax_impl(att + size_t(h) * len, len);
    // out_h = sum_t att[h][t] * V[t], the sums in memory (L1) between rows, each column summed in
    // t order as run.c does.
    for (int i = h0 * head_size; i < h1 * head_size; i++) out[i] = 0.0f;
    for (int t = 0; t < len; t++) {
        const float *__restrict vt = value_cache + size_t(t) * kv_dim;
        for (int h = h0; h < h1; h++)
            axpy(out + size_t(h) * head_size, att[size_t(h) * len + t], vt + size_t(h / kv_mul) * head_size, head_size);
    }
}

// No __restrict on the element-wise kernels: x and y may be the same array (x += x); LLVM
// still vectorizes, behind a runtime overlap check.
void swiglu(float *h, const float *g, int n) {
    for (int i = 0; i < n; i++) {
        float val = h[i];
        val *= 1.0f / (1.0f + exp_lanes(-val));
        h[i] = val * g[i];
    }
}

void add(float *x, const float *y, int n) {
    for (int i = 0; i < n; i++) x[i] += y[i];
}

void mul(float *x, const float *y, int n) {
    for (int i = 0; i < n; i++) x[i] *= y[i];
}

}  // namespace bf::kern
