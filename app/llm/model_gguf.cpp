// A GGUF model (llama.cpp's format) as a Model: the architecture's hyperparameters from the
// metadata, the tensors by their llama.cpp names, every shape and type checked. The weights stay
// in the file's buffer in their stored types (a Q8_0 model needs about a quarter of its fp32
// size); forward() multiplies each type with llama.cpp's numerics.
#include "model_gguf.h"

#include <string>

#include "fmt.h"
#include "generate.h"
#include "jit/kernels/quant.h"
#include "weights_check.h"

namespace bf::llm {
namespace {

constexpr int64_t kMaxDim = 1 << 20, kMaxLayers = 1 << 12, kMaxVocab = 1 << 24, kMaxContext = 1 << 22;

struct Reader {
    const gguf::File &f;
    std::string arch;
    std::string &err;

    // arch.<key> as a positive integer at most max; `dflt` when absent (0: required).
    bool dim(const char *key, int64_t max, int &out, int64_t dflt = 0) {
        const std::string k = arch + "." + key;
        int64_t v = 0;
        if (!f.find(k)) {
            if (!dflt) {
                err = "model: GGUF key " + k + " is missing";
                return false;
            }
            out = int(dflt);
            return true;
        }
        std::string e;
        if (!f.get_int(k, v, &e)) {
            err = "model: GGUF key " + k + ": " + e;
            return false;
        }
        if (v <= 0 || v > max) {
            err = fmt("model: GGUF key %s is %lld (must be in 1..%lld)", k.c_str(), (long long)v, (long long)max);
            return false;
        }
        out = int(v);
        return true;
    }

    bool real(const char *key, float dflt, float &out) {
        const std::string k = arch + "." + key;
        out = dflt;
        if (!f.find(k)) return true;
        std::string e;
        if (!f.get_f32(k, out, &e) || !(out > 0.0f) || out > 1e12f) {
            err = "model: GGUF key " + k + (e.empty() ? ": not a positive number" : ": " + e);
            return false;
        }
        return true;
    }

    // A tensor that must exist with ne = {cols, rows} (rows 0: a vector of cols values).
    const gguf::Tensor *tensor(const std::string &name, int64_t cols, int64_t rows) {
        const gguf::Tensor *t = f.find_tensor(name);
        if (!t) {
            err = "model: tensor " + name + " is missing";
            return nullptr;
        }
        const bool vec = rows == 0;
        if (t->n_dims != (vec ? 1u : 2u) || t->ne[0] != cols || (!vec && t->ne[1] != rows)) {
            err = fmt("model: tensor %s has shape [%lld, %lld] (%u dims), expected [%lld%s%s]", name.c_str(),
                      (long long)t->ne[0], (long long)t->ne[1], t->n_dims, (long long)cols, vec ? "" : ", ",
                      vec ? "" : std::to_string(rows).c_str());
            return nullptr;
        }
        return t;
    }

    bool matrix(const std::string &name, int rows, int cols, Matrix &out) {
        const gguf::Tensor *t = tensor(name, cols, rows);
        if (!t) return false;
        if (!matmul_supported(t->type)) {
            const char *tn = gguf::type_name(t->type);
            err = fmt("model: tensor %s is %s: generation with this weight type is not implemented yet "
                      "(f32, f16, bf16, q8_0, q4_0, q4_1, q5_0, q5_1, q2_K, q3_K, q4_K, q5_K, q6_K are)",
                      name.c_str(), tn ? tn : "?");
            return false;
        }
        out.data = t->data;
        out.type = t->type;
        out.rows = rows;
        out.cols = cols;
        out.row_bytes = size_t(t->row_bytes);
        return true;
    }

    // Norm weights (and qwen2's biases) are used as fp32 vectors in place.
    bool norm(const std::string &name, int n, const float *&out) {
        const gguf::Tensor *t = tensor(name, n, 0);
        if (!t) return false;
        if (t->type != gguf::kF32) {
            const char *tn = gguf::type_name(t->type);
            err = fmt("model: tensor %s is %s: norm weights and biases must be f32", name.c_str(), tn ? tn : "?");
            return false;
        }
        out = reinterpret_cast<const float *>(t->data);
        return true;
    }
};

}  // namespace

bool load_gguf_model(const gguf::File &f, Model &out, std::string &err) {
    std::string_view arch;
    std::string e;
    if (!f.get_string("general.architecture", arch, &e)) {
        err = "model: GGUF key general.architecture: " + e;
        return false;
    }
    // qwen2 is llama's layer plus Q/K/V biases, with the NEOX RoPE pairing (its converter does not
    // permute Q/K rows the way llama's does).
    const bool qwen2 = arch == "qwen2";
    if (arch != "llama" && !qwen2) {
        err = "model: architecture '" + std::string(arch.substr(0, 40)) + "' is not supported (supported: llama, qwen2)";
        return false;
    }
    Reader r{f, std::string(arch), err};
    Config c;
    if (!r.dim("embedding_length", kMaxDim, c.dim) || !r.dim("feed_forward_length", kMaxDim * 4, c.hidden_dim) ||
        !r.dim("block_count", kMaxLayers, c.n_layers) || !r.dim("attention.head_count", kMaxDim, c.n_heads) ||
        !r.dim("attention.head_count_kv", kMaxDim, c.n_kv_heads, c.n_heads) ||
        !r.dim("context_length", kMaxContext, c.seq_len) ||
        !r.real("attention.layer_norm_rms_epsilon", 1e-5f, c.norm_eps) ||
        !r.real("rope.freq_base", 10000.0f, c.rope_theta))
        return false;
    if (c.dim % c.n_heads || c.n_kv_heads > c.n_heads || c.n_heads % c.n_kv_heads || (c.dim / c.n_heads) % 2) {
        err = fmt("model: heads do not divide: dim %d, %d heads, %d kv heads", c.dim, c.n_heads, c.n_kv_heads);
        return false;
    }
    c.head_size = c.dim / c.n_heads;
    c.kv_dim = c.n_kv_heads * c.head_size;
    int rope_dims = 0;
    if (!r.dim("rope.dimension_count", kMaxDim, rope_dims, c.head_size)) return false;
    if (rope_dims != c.head_size) {
        err = fmt("model: rope.dimension_count %d differs from head size %d: partial RoPE is not supported",
                  rope_dims, c.head_size);
        return false;
    }
    // Llama 3.1's RoPE scaling arrives as per-frequency factors (the tensor rope_freqs.weight,
    // read below); the other schemes (linear, YaRN) are declared by rope.scaling.type.
    std::string_view scaling;
    if (f.get_string(r.arch + ".rope.scaling.type", scaling) && scaling != "none") {
        err = "model: RoPE scaling '" + std::string(scaling.substr(0, 20)) + "' is not supported (Llama 3.1's rope_freqs is)";
        return false;
    }
    const gguf::Tensor *emb = f.find_tensor("token_embd.weight");
    if (!emb || emb->n_dims != 2 || emb->ne[0] != c.dim || emb->ne[1] <= 0 || emb->ne[1] > kMaxVocab) {
        err = emb ? "model: tensor token_embd.weight has the wrong shape" : "model: tensor token_embd.weight is missing";
        return false;
    }
    c.vocab_size = int(emb->ne[1]);
    if (!kern::quant::block_size(emb->type)) {
        err = "model: tensor token_embd.weight has a type the embedding lookup cannot read";
        return false;
    }
    c.kv_f16 = true;  // llama.cpp's default; its texts depend on it
    c.rope_neox = qwen2;

    Weights w;
    w.token_embedding = {emb->data, emb->type, c.vocab_size, c.dim, size_t(emb->row_bytes)};
    w.layers.resize(size_t(c.n_layers));
    for (int l = 0; l < c.n_layers; l++) {
        Layer &y = w.layers[size_t(l)];
        const std::string b = "blk." + std::to_string(l) + ".";
        if (!r.norm(b + "attn_norm.weight", c.dim, y.attn_norm) || !r.norm(b + "ffn_norm.weight", c.dim, y.ffn_norm) ||
            !r.matrix(b + "attn_q.weight", c.dim, c.dim, y.wq) || !r.matrix(b + "attn_k.weight", c.kv_dim, c.dim, y.wk) ||
            !r.matrix(b + "attn_v.weight", c.kv_dim, c.dim, y.wv) ||
            !r.matrix(b + "attn_output.weight", c.dim, c.dim, y.wo) ||
            !r.matrix(b + "ffn_gate.weight", c.hidden_dim, c.dim, y.w1) ||
            !r.matrix(b + "ffn_down.weight", c.dim, c.hidden_dim, y.w2) ||
            !r.matrix(b + "ffn_up.weight", c.hidden_dim, c.dim, y.w3))
            return false;
        if (qwen2 && (!r.norm(b + "attn_q.bias", c.dim, y.bq) || !r.norm(b + "attn_k.bias", c.kv_dim, y.bk) ||
                      !r.norm(b + "attn_v.bias", c.kv_dim, y.bv)))
            return false;
    }
    if (!r.norm("output_norm.weight", c.dim, w.rms_final_weight)) return false;
    if (f.find_tensor("rope_freqs.weight")) {
        if (qwen2) {
            err = "model: rope_freqs.weight with the NEOX RoPE (qwen2) is not supported";
            return false;
        }
        if (!r.norm("rope_freqs.weight", c.head_size / 2, w.rope_factors)) return false;
        for (int i = 0; i < c.head_size / 2; i++)
            if (!(w.rope_factors[i] > 0.0f) || w.rope_factors[i] > 1e6f) {
                err = fmt("model: rope_freqs.weight[%d] is %g (must be a positive factor)", i, double(w.rope_factors[i]));
                return false;
            }
    }
    // No output.weight: the classifier is the token embedding (tied), as llama.cpp does.
    c.shared_classifier = !f.find_tensor("output.weight");
    if (c.shared_classifier) {
        if (!matmul_supported(emb->type)) {
            err = "model: tied output: token_embd.weight's type cannot be multiplied yet";
            return false;
        }
        w.wcls = w.token_embedding;
    } else if (!r.matrix("output.weight", c.vocab_size, c.dim, w.wcls)) {
        return false;
    }
    uint64_t values = 0, bytes = 0;
    for (size_t i = 0; i < f.n_tensors(); i++) {
        const gguf::Tensor &t = f.tensor(i);
        values += uint64_t(t.n_elements);
        bytes += t.size;
        // NaN/Inf weights or block scales would turn every logit into NaN: refused by name.
        if (!check_weights(std::string(t.name).c_str(), t.type, t.data, uint64_t(t.n_elements), err)) return false;
    }
    out.config = c;
    out.weights = w;
    out.n_params = values;
    out.bytes_needed = bytes;
    return true;
}

void regroup_weights(Weights &w, uint8_t *file, size_t size) {
    std::vector<Matrix *> all{&w.token_embedding, &w.wcls};
    for (Layer &y : w.layers)
        for (Matrix *m : {&y.wq, &y.wk, &y.wv, &y.wo, &y.w1, &y.w2, &y.w3}) all.push_back(m);
    for (Matrix *m : all) {
        if (m->type != kern::quant::Q4_0 || m->cols % kern::quant::QK_K) continue;
        const uintptr_t at = reinterpret_cast<uintptr_t>(m->data), base = reinterpret_cast<uintptr_t>(file);
        const size_t bytes = size_t(m->rows) * m->row_bytes;
        if (at < base || at - base > size || bytes > size - (at - base)) continue;  // not in the buffer: left as is
        const void *data = m->data;
        uint8_t *p = file + (at - base);
        for (int r = 0; r < m->rows; r++) kern::quant::regroup_q4_0(p + size_t(r) * m->row_bytes, m->cols);
        for (Matrix *same : all)  // a tied classifier is the embedding: one regroup, both retyped
            if (same->data == data) same->type = kern::quant::Q4_0_X8;
    }
}

}  // namespace bf::llm
