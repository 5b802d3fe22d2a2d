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
extern "C" const size_t bf_tune_prefetch_ahead;
extern "C" const size_t bf_tune_prefetch_ahead = 2048;

namespace bf::kern {
namespace {

using detail::dot;
using detail::exp_lanes;
using detail::hsum;
using detail::kVec;
using detail::softmax_impl;

// out[c] = sum_t a[t] * v[t * stride + c] for c < C * kVec: the weighted sum of attention
// values for C * kVec columns, C independent accumulators (an FMA's latency is hidden by C
// chains). The lane loops carry the vector hint: with head_size a JIT constant, a plain loop
// over the columns was fully unrolled into scalar FMAs before the vectorizer saw it (2.5x slower
// than AOT at head_size 48). Sums run in t order, as ref::attention's.
template <int C>
inline void weighted_rows(float *__restrict out, const float *__restrict a, const float *__restrict v,
                          int stride, int len) {
    float acc[C][kVec] = {};
    for (int t = 0; t < len; t++) {
        const float at = a[t];
        const float *__restrict vt = v + size_t(t) * stride;
        BF_UNROLL for (int c = 0; c < C; c++)
            BF_LANES(kVec) for (int l = 0; l < kVec; l++) acc[c][l] += at * vt[c * kVec + l];
    }
    BF_UNROLL for (int c = 0; c < C; c++)
        BF_LANES(kVec) for (int l = 0; l < kVec; l++) out[c * kVec + l] = acc[c][l];
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
    // The kv_mul query heads of one group share a key/value head: the scores walk the key cache
    // once per group (each cached row is used by all heads of the group while it is in L1).
    // (Heads ha..hb-1 of group g: the group's heads within h0..h1-1.)
    for (int g = h0 / kv_mul; g * kv_mul < h1; g++) {
        const int ha = g * kv_mul > h0 ? g * kv_mul : h0, hb = (g + 1) * kv_mul < h1 ? (g + 1) * kv_mul : h1;
        const float *__restrict kc = key_cache + size_t(g) * head_size;
        const float *__restrict vc = value_cache + size_t(g) * head_size;
        for (int t = 0; t < len; t++) {
            const float *__restrict kt = kc + size_t(t) * kv_dim;
            for (int h = ha; h < hb; h++) att[size_t(h) * len + t] = dot(q + size_t(h) * head_size, kt, head_size) * scale;
        }
        for (int h = ha; h < hb; h++) softmax_impl(att + size_t(h) * len, len);
        // out_h = sum_t att[h][t] * V[t], C * kVec columns of a head at a time, the partial sums
        // in registers across all t (C independent FMA chains, one store per column).
        for (int h = ha; h < hb; h++) {
            const float *__restrict ah = att + size_t(h) * len;
            float *__restrict oh = out + size_t(h) * head_size;
            int i = 0;
            for (; i + 4 * kVec <= head_size; i += 4 * kVec) weighted_rows<4>(oh + i, ah, vc + i, kv_dim, len);
            if (i + 2 * kVec <= head_size) weighted_rows<2>(oh + i, ah, vc + i, kv_dim, len), i += 2 * kVec;
            if (i + kVec <= head_size) weighted_rows<1>(oh + i, ah, vc + i, kv_dim, len), i += kVec;
            for (; i < head_size; i++) {  // head_size not a multiple of kVec
                float s = 0.0f;
                for (int t = 0; t < len; t++) s += ah[t] * vc[size_t(t) * kv_dim + i];
                oh[i] = s;
            }
        }
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
