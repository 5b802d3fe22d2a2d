// temporary: replaced by the optimized kernels on merge.
// Until then the dispatchable bf::kern:: entry points forward to the reference loops, so that the
// llm code links and its tests run against the oracle.
#include "kernels.h"

namespace bf::kern {

void matvec(float *out, const float *x, const float *w, int n, int d) {
    ref::matvec(out, x, w, n, d);
}
void sgemm(float *c, const float *a, const float *b, int m, int n, int k, bool trans_b) {
    ref::sgemm(c, a, b, m, n, k, trans_b);
}
void rmsnorm(float *o, const float *x, const float *weight, int n) { ref::rmsnorm(o, x, weight, n); }
void softmax(float *x, int n) { ref::softmax(x, n); }
void rope(float *q, float *k, int pos, int dim, int kv_dim, int head_size) {
    ref::rope(q, k, pos, dim, kv_dim, head_size);
}
void attention(float *out, float *att, const float *q, const float *key_cache,
               const float *value_cache, int pos, int n_heads, int n_kv_heads, int head_size) {
    ref::attention(out, att, q, key_cache, value_cache, pos, n_heads, n_kv_heads, head_size);
}
void swiglu(float *h, const float *g, int n) { ref::swiglu(h, g, n); }
void add(float *x, const float *y, int n) { ref::add(x, y, n); }
void mul(float *x, const float *y, int n) { ref::mul(x, y, n); }

}  // namespace bf::kern
