// The tensor kernels a transformer spends its time in. Written once in C++, compiled twice: AOT for
// baseline x86-64 (this header's functions) and, with the JIT, as embedded LLVM IR recompiled for
// the CPU found at boot. Row-major fp32 throughout.
//
// Callers go through the dispatch table (kernels/dispatch.h) so that a JIT-compiled version can be
// swapped in; kernels_ref.cpp holds plain reference loops, the oracle for correctness tests.
#pragma once
#include <stddef.h>

namespace bf::kern {

// out[i] = sum_j w[i*n + j] * x[j], i < d  (W is d x n; llama2.c's matmul(xout, x, w, n, d))
void matvec(float *out, const float *x, const float *w, int n, int d);

// C = A * B (trans_b false: B is K x N) or C = A * B^T (trans_b true: B is N x K).
// A is M x K, C is M x N, all row-major and densely packed.
void sgemm(float *c, const float *a, const float *b, int m, int n, int k, bool trans_b);

// o[i] = weight[i] * x[i] / sqrt(mean(x^2) + 1e-5)
void rmsnorm(float *o, const float *x, const float *weight, int n);

// In place: x[i] = exp(x[i] - max) / sum
void softmax(float *x, int n);

// RoPE as llama2.c applies it at position pos: pairs (2i, 2i+1) of q (dim values) and of
// k (kv_dim values) rotate by pos * 10000^(-(2i mod head_size) / head_size).
void rope(float *q, float *k, int pos, int dim, int kv_dim, int head_size);

// Causal multi-head attention for one query position (grouped-query: n_heads / n_kv_heads query
// heads share a key/value head). q: n_heads * head_size. key/value caches of one layer:
// [seq][kv_dim] with kv_dim = n_kv_heads * head_size, positions 0..pos valid. att: scratch of
// n_heads * (pos + 1) floats. out: n_heads * head_size.
void attention(float *out, float *att, const float *q, const float *key_cache,
               const float *value_cache, int pos, int n_heads, int n_kv_heads, int head_size);

// SwiGLU: h[i] = silu(h[i]) * g[i], silu(x) = x / (1 + exp(-x))
void swiglu(float *h, const float *g, int n);

// x[i] += y[i]
void add(float *x, const float *y, int n);
// x[i] *= y[i]
void mul(float *x, const float *y, int n);

namespace ref {  // the plain loops (kernels_ref.cpp): obviously correct, slow
void matvec(float *out, const float *x, const float *w, int n, int d);
void sgemm(float *c, const float *a, const float *b, int m, int n, int k, bool trans_b);
void rmsnorm(float *o, const float *x, const float *weight, int n);
void softmax(float *x, int n);
void rope(float *q, float *k, int pos, int dim, int kv_dim, int head_size);
void attention(float *out, float *att, const float *q, const float *key_cache,
               const float *value_cache, int pos, int n_heads, int n_kv_heads, int head_size);
void swiglu(float *h, const float *g, int n);
void add(float *x, const float *y, int n);
void mul(float *x, const float *y, int n);
}  // namespace ref

}  // namespace bf::kern
