// A llama2.c checkpoint (legacy format) over an in-memory file image.
//
// Layout: 7 x int32 header (dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len;
// vocab_size < 0 means the classifier has its own weights, > 0 that it shares the token
// embedding), then fp32 tensors in run.c's order: token_embedding_table, rms_att_weight, wq, wk,
// wv, wo, rms_ffn_weight, w1, w2, w3, rms_final_weight, freq_cis_real, freq_cis_imag (unused,
// seq_len * head_size / 2 each), and wcls when it is not shared.
//
// load_model validates the header and every size against the file before anything is touched,
// and the weights point into the caller's buffer (no copy): keep it alive and 4-byte aligned.
#pragma once
#include <stddef.h>
#include <stdint.h>

#include <string>
#include <vector>

namespace bf::llm {

struct Config {
    int dim = 0;         // transformer width
    int hidden_dim = 0;  // FFN width
    int n_layers = 0;
    int n_heads = 0;     // query heads
    int n_kv_heads = 0;  // key/value heads (< n_heads: grouped-query attention)
    int vocab_size = 0;  // always positive here
    int seq_len = 0;     // maximum sequence length (the KV cache's length)
    bool shared_classifier = true;
    int head_size = 0;   // dim / n_heads
    int kv_dim = 0;      // n_kv_heads * head_size
    float norm_eps = 1e-5f;       // RMS norm epsilon (llama2.c: 1e-5)
    float rope_theta = 10000.0f;  // RoPE base (llama2.c: 10000)
    bool kv_f16 = false;          // KV cache in fp16 (GGUF, as llama.cpp) or fp32 (llama2.c)
    bool rope_neox = false;       // RoPE pairs (i, i + head_size/2) (qwen2) instead of (2i, 2i+1)
};

// A weight matrix as the file stores it: rows x cols values of a ggml type (kern::quant::Type;
// llama2.c checkpoints are all F32), row-major, rows of row_bytes. W x is one dot product per row.
struct Matrix {
    const void *data = nullptr;
    uint32_t type = 0;  // F32
    int rows = 0, cols = 0;
    size_t row_bytes = 0;
    const float *f32() const { return static_cast<const float *>(data); }  // type F32 only
};

struct Layer {
    const float *attn_norm = nullptr;  // dim
    Matrix wq, wk, wv, wo;             // dim x dim, kv_dim x dim, kv_dim x dim, dim x dim
    const float *bq = nullptr, *bk = nullptr, *bv = nullptr;  // qwen2's biases: dim, kv_dim, kv_dim
    const float *ffn_norm = nullptr;   // dim
    Matrix w1, w2, w3;                 // hidden x dim, dim x hidden, hidden x dim
};

struct Weights {
    Matrix token_embedding;  // vocab_size x dim
    std::vector<Layer> layers;
    const float *rms_final_weight = nullptr;  // dim
    const float *rope_factors = nullptr;      // head_size / 2: Llama 3.1's RoPE frequency factors
    Matrix wcls;             // vocab_size x dim (the embedding when shared)
};

struct Model {
    Config config;
    Weights weights;
    uint64_t n_params = 0;      // values the file holds (llama2.c: incl. freq_cis)
    uint64_t bytes_needed = 0;  // bytes of the file the model uses
};

// Largest number of fp32 values a checkpoint may declare; anything above is a corrupt header.
constexpr uint64_t kMaxModelValues = uint64_t(1) << 40;

// Parses and validates a checkpoint image. On failure returns false and sets err to a message
// that names the offending field, e.g. "model: file is 931000 bytes but the weights need 932124
// (truncated?)". `out` is only written on success.
bool load_model(const void *data, size_t size, Model &out, std::string &err);

}  // namespace bf::llm
