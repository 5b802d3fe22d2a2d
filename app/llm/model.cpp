// llama2.c checkpoint loader: header validation and the tensor map (see model.h).
#include "model.h"
#include "fmt.h"
#include "weights_check.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

namespace bf::llm {
namespace {

constexpr size_t kHeaderBytes = 7 * sizeof(int32_t);

// Per-field ceilings: far above any real checkpoint, low enough that no product of them can
// overflow 64 bits (the arithmetic below is checked all the same).
constexpr int kMaxDim = 1 << 20;
constexpr int kMaxHiddenDim = 1 << 22;
constexpr int kMaxLayers = 1 << 12;
constexpr int kMaxVocab = 1 << 24;
constexpr int kMaxSeqLen = 1 << 22;


bool mul3(uint64_t a, uint64_t b, uint64_t c, uint64_t &out) {
    uint64_t t;
    return !__builtin_mul_overflow(a, b, &t) && !__builtin_mul_overflow(t, c, &out);
}

bool check_field(const char *name, int v, int max, std::string &err) {
    if (v <= 0) {
        err = fmt("model: %s is %d (must be > 0)", name, v);
        return false;
    }
    if (v > max) {
        err = fmt("model: %s is %d, absurdly large (limit %d; corrupt header?)", name, v, max);
        return false;
    }
    return true;
}

}  // namespace

bool load_model(const void *data, size_t size, Model &out, std::string &err) {
    if (!data || size < kHeaderBytes) {
        err = fmt("model: file is %zu bytes, shorter than the %zu-byte header", data ? size : 0,
                  kHeaderBytes);
        return false;
    }
    if (reinterpret_cast<uintptr_t>(data) % alignof(float)) {
        err = "model: buffer is not 4-byte aligned (the weights are used in place)";
        return false;
    }
    int32_t h[7];
    memcpy(h, data, sizeof h);
    if (uint32_t(h[0]) == 0x616b3432u) {  // "ak42": llama2.c's version 1/2 exports
        err = "model: magic 'ak42' (a llama2.c version 1/2 export); only the legacy format "
              "(7 x int32 header, fp32 weights) is supported";
        return false;
    }
    Config c;
    c.dim = h[0];
    c.hidden_dim = h[1];
    c.n_layers = h[2];
    c.n_heads = h[3];
    c.n_kv_heads = h[4];
    int vocab = h[5];
    c.seq_len = h[6];

    if (!check_field("dim", c.dim, kMaxDim, err)) return false;
    if (!check_field("hidden_dim", c.hidden_dim, kMaxHiddenDim, err)) return false;
    if (!check_field("n_layers", c.n_layers, kMaxLayers, err)) return false;
    if (!check_field("n_heads", c.n_heads, kMaxDim, err)) return false;
    if (!check_field("n_kv_heads", c.n_kv_heads, kMaxDim, err)) return false;
    if (vocab == 0 || vocab == INT_MIN) {
        err = fmt("model: vocab_size is %d (must be nonzero)", vocab);
        return false;
    }
    c.shared_classifier = vocab > 0;
    c.vocab_size = vocab > 0 ? vocab : -vocab;
    if (c.vocab_size > kMaxVocab) {
        err = fmt("model: vocab_size is %d, absurdly large (limit %d; corrupt header?)", vocab,
                  kMaxVocab);
        return false;
    }
    if (!check_field("seq_len", c.seq_len, kMaxSeqLen, err)) return false;
    if (c.dim % c.n_heads) {
        err = fmt("model: dim %d is not a multiple of n_heads %d", c.dim, c.n_heads);
        return false;
    }
    if (c.n_kv_heads > c.n_heads) {
        err = fmt("model: n_kv_heads %d exceeds n_heads %d", c.n_kv_heads, c.n_heads);
        return false;
    }
    if (c.n_heads % c.n_kv_heads) {
        err = fmt("model: n_heads %d is not a multiple of n_kv_heads %d", c.n_heads,
                  c.n_kv_heads);
        return false;
    }
    c.head_size = c.dim / c.n_heads;
    if (c.head_size % 2) {
        err = fmt("model: head_size (dim %d / n_heads %d) is %d, odd (RoPE rotates pairs)",
                  c.dim, c.n_heads, c.head_size);
        return false;
    }
    c.kv_dim = c.n_kv_heads * c.head_size;

    // The tensors in file order: element counts, each checked for overflow and sanity.
    struct Tensor {
        const char *name;
        const char *shape;  // for the message
        uint64_t a, b, c;
        uint64_t n = 0;
    };
    const uint64_t L = uint64_t(c.n_layers), D = uint64_t(c.dim), H = uint64_t(c.hidden_dim),
                   V = uint64_t(c.vocab_size), KV = uint64_t(c.kv_dim);
    const uint64_t freq = uint64_t(c.seq_len) * uint64_t(c.head_size) / 2;
    Tensor t[] = {
        {"token_embedding_table", "vocab_size x dim", V, D, 1},
        {"rms_att_weight", "n_layers x dim", L, D, 1},
        {"wq", "n_layers x dim x dim", L, D, D},
        {"wk", "n_layers x dim x kv_dim", L, D, KV},
        {"wv", "n_layers x dim x kv_dim", L, D, KV},
        {"wo", "n_layers x dim x dim", L, D, D},
        {"rms_ffn_weight", "n_layers x dim", L, D, 1},
        {"w1", "n_layers x hidden_dim x dim", L, H, D},
        {"w2", "n_layers x dim x hidden_dim", L, D, H},
        {"w3", "n_layers x hidden_dim x dim", L, H, D},
        {"rms_final_weight", "dim", D, 1, 1},
        {"freq_cis_real", "seq_len x head_size / 2", freq, 1, 1},
        {"freq_cis_imag", "seq_len x head_size / 2", freq, 1, 1},
        {"wcls", "vocab_size x dim", c.shared_classifier ? 0 : V, D, 1},
    };
    uint64_t total = 0;
    for (Tensor &x : t) {
        if (!mul3(x.a, x.b, x.c, x.n) || x.n > kMaxModelValues) {
            err = fmt("model: tensor %s (%s) is absurdly large (over 2^40 values; corrupt "
                      "header?)", x.name, x.shape);
            return false;
        }
        total += x.n;  // at most 14 terms of <= 2^40: cannot overflow
    }
    if (total > kMaxModelValues) {
        err = fmt("model: %llu parameters in total, absurdly many (limit 2^40; corrupt header?)",
                  (unsigned long long)total);
        return false;
    }
    const uint64_t need = kHeaderBytes + total * sizeof(float);
    if (uint64_t(size) < need) {
        // Name the first tensor that runs past the end of the file.
        uint64_t off = kHeaderBytes;
        const char *first = "?";
        for (const Tensor &x : t) {
            if (off + x.n * sizeof(float) > size) {
                first = x.name;
                break;
            }
            off += x.n * sizeof(float);
        }
        err = fmt("model: file is %zu bytes but the weights need %llu (truncated?); tensor %s "
                  "runs past the end", size, (unsigned long long)need, first);
        return false;
    }

    const float *p = reinterpret_cast<const float *>(static_cast<const unsigned char *>(data) +
                                                     kHeaderBytes);
    const float *ptrs[14];
    for (int i = 0; i < 14; i++) {
        ptrs[i] = p;
        p += t[i].n;
    }
    // NaN/Inf or absurd weights would turn every logit into NaN: refused by tensor name. The
    // freq_cis tables are not used (RoPE is computed), so they are not checked.
    for (int i = 0; i < 14; i++)
        if (i != 11 && i != 12 && !check_weights(t[i].name, 0, ptrs[i], t[i].n, err)) return false;
    // Every matrix is F32, row-major, layer after layer.
    const size_t Ds = size_t(D);
    auto mat = [](const float *base, size_t l, int rows, int cols) {
        Matrix m;
        m.data = base + l * size_t(rows) * size_t(cols);
        m.type = 0;
        m.rows = rows;
        m.cols = cols;
        m.row_bytes = size_t(cols) * sizeof(float);
        return m;
    };
    Weights w;
    w.token_embedding = mat(ptrs[0], 0, c.vocab_size, c.dim);
    w.layers.resize(size_t(c.n_layers));
    for (size_t l = 0; l < w.layers.size(); l++) {
        Layer &y = w.layers[l];
        y.attn_norm = ptrs[1] + l * Ds;
        y.wq = mat(ptrs[2], l, c.dim, c.dim);
        y.wk = mat(ptrs[3], l, c.kv_dim, c.dim);
        y.wv = mat(ptrs[4], l, c.kv_dim, c.dim);
        y.wo = mat(ptrs[5], l, c.dim, c.dim);
        y.ffn_norm = ptrs[6] + l * Ds;
        y.w1 = mat(ptrs[7], l, c.hidden_dim, c.dim);
        y.w2 = mat(ptrs[8], l, c.dim, c.hidden_dim);
        y.w3 = mat(ptrs[9], l, c.hidden_dim, c.dim);
    }
    w.rms_final_weight = ptrs[10];
    w.wcls = c.shared_classifier ? w.token_embedding : mat(ptrs[13], 0, c.vocab_size, c.dim);

    out.config = c;
    out.weights = w;
    out.n_params = total;
    out.bytes_needed = need;
    return true;
}


}  // namespace bf::llm
