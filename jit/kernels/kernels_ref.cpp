// Reference loops for the tensor kernels: the oracle the optimized kernels are tested against.
// They follow llama2.c's run.c operation for operation.
#include "kernels.h"

#include <math.h>

namespace bf::kern::ref {

void matvec(float *out, const float *x, const float *w, int n, int d) {
    for (int i = 0; i < d; i++) {
        float v = 0.0f;
        for (int j = 0; j < n; j++) v += w[size_t(i) * n + j] * x[j];
        out[i] = v;
    }
}

void sgemm(float *c, const float *a, const float *b, int m, int n, int k, bool trans_b) {
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            float v = 0.0f;
            for (int p = 0; p < k; p++)
                v += a[size_t(i) * k + p] * (trans_b ? b[size_t(j) * k + p] : b[size_t(p) * n + j]);
            c[size_t(i) * n + j] = v;
        }
}

void rmsnorm(float *o, const float *x, const float *weight, int n, float eps) {
    float ss = 0.0f;
    for (int j = 0; j < n; j++) ss += x[j] * x[j];
    ss /= float(n);
    ss += eps;
    ss = 1.0f / sqrtf(ss);
    for (int j = 0; j < n; j++) o[j] = weight[j] * (ss * x[j]);
}

void softmax(float *x, int n) {
    float max_val = x[0];
    for (int i = 1; i < n; i++)
        if (x[i] > max_val) max_val = x[i];
    float sum = 0.0f;
    for (int i = 0; i < n; i++) {
        x[i] = expf(x[i] - max_val);
        sum += x[i];
    }
    for (int i = 0; i < n; i++) x[i] /= sum;
}

void rope(float *q, float *k, int pos, int dim, int kv_dim, int head_size, float theta, const float *factors) {
    for (int i = 0; i < dim; i += 2) {
        int head_dim = i % head_size;
        float freq = 1.0f / powf(theta, float(head_dim) / float(head_size));
        float val = float(pos) * freq;
        if (factors) val /= factors[head_dim / 2];
        float fcr = cosf(val), fci = sinf(val);
        int rotn = i < kv_dim ? 2 : 1;  // q always, k only within kv_dim
        for (int v = 0; v < rotn; v++) {
            float *vec = v == 0 ? q : k;
            float v0 = vec[i], v1 = vec[i + 1];
            vec[i] = v0 * fcr - v1 * fci;
            vec[i + 1] = v0 * fci + v1 * fcr;
        }
    }
}

void attention(float *out, float *att, const float *q, const float *key_cache,
               const float *value_cache, int pos, int n_heads, int n_kv_heads, int head_size, int h0, int h1) {
    int kv_dim = n_kv_heads * head_size, kv_mul = n_heads / n_kv_heads;
    for (int h = h0; h < h1; h++) {
        const float *qh = q + h * head_size;
        float *a = att + size_t(h) * (pos + 1);
        for (int t = 0; t <= pos; t++) {
            const float *kt = key_cache + size_t(t) * kv_dim + (h / kv_mul) * head_size;
            float score = 0.0f;
            for (int i = 0; i < head_size; i++) score += qh[i] * kt[i];
            a[t] = score / sqrtf(float(head_size));
        }
        softmax(a, pos + 1);
        float *o = out + h * head_size;
        for (int i = 0; i < head_size; i++) o[i] = 0.0f;
        for (int t = 0; t <= pos; t++) {
            const float *vt = value_cache + size_t(t) * kv_dim + (h / kv_mul) * head_size;
            for (int i = 0; i < head_size; i++) o[i] += a[t] * vt[i];
        }
    }
}

void swiglu(float *h, const float *g, int n) {
    for (int i = 0; i < n; i++) {
        float val = h[i];
        val *= (1.0f / (1.0f + expf(-val)));
        h[i] = val * g[i];
    }
}

void add(float *x, const float *y, int n) {
    for (int i = 0; i < n; i++) x[i] += y[i];
}

void mul(float *x, const float *y, int n) {
    for (int i = 0; i < n; i++) x[i] *= y[i];
}

void rope_neox(float *q, float *k, int pos, int dim, int kv_dim, int head_size, float theta) {
    const int half = head_size / 2;
    for (int v = 0; v < 2; v++) {
        float *vec = v == 0 ? q : k;
        const int len = v == 0 ? dim : kv_dim;
        for (int h = 0; h + head_size <= len; h += head_size)
            for (int i = 0; i < half; i++) {
                const float val = float(pos) * (1.0f / powf(theta, float(2 * i) / float(head_size)));
                const float fcr = cosf(val), fci = sinf(val);
                const float v0 = vec[h + i], v1 = vec[h + i + half];
                vec[h + i] = v0 * fcr - v1 * fci;
                vec[h + i + half] = v0 * fci + v1 * fcr;
            }
    }
}

}  // namespace bf::kern::ref
