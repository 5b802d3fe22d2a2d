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

namespace bf::llm {

struct Config {
    int dim = 0;         // transformer width
    int hidden_dim = 0;  // FFN width
    int n_layers = 0;
    int n_heads = 0;     // query heads
    int n_kv_heads = 0;  // key/value heads (< n_heads: grouped-query attention)
    int vocab_size = 0;  // always positive here
    int seq_len = 0;     // maximum sequence length
    bool shared_classifier = true;
    int head_size = 0;   // dim / n_heads
    int kv_dim = 0;      // n_kv_heads * head_size
};

struct Weights {
    const float *token_embedding_table = nullptr;  // vocab_size x dim
    const float *rms_att_weight = nullptr;         // n_layers x dim
    const float *wq = nullptr;                     // n_layers x dim x dim
    const float *wk = nullptr;                     // n_layers x kv_dim x dim
    const float *wv = nullptr;                     // n_layers x kv_dim x dim
    const float *wo = nullptr;                     // n_layers x dim x dim
    const float *rms_ffn_weight = nullptr;         // n_layers x dim
    const float *w1 = nullptr;                     // n_layers x hidden_dim x dim
    const float *w2 = nullptr;                     // n_layers x dim x hidden_dim
    const float *w3 = nullptr;                     // n_layers x hidden_dim x dim
    const float *rms_final_weight = nullptr;       // dim
    const float *wcls = nullptr;                   // vocab_size x dim
};

struct Model {
    Config config;
    Weights weights;
    uint64_t n_params = 0;      // fp32 values the file holds after the header (incl. freq_cis)
    uint64_t bytes_needed = 0;  // header + all tensors
};

// Largest number of fp32 values a checkpoint may declare; anything above is a corrupt header.
constexpr uint64_t kMaxModelValues = uint64_t(1) << 40;

// Parses and validates a checkpoint image. On failure returns false and sets err to a message
// that names the offending field, e.g. "model: file is 931000 bytes but the weights need 932124
// (truncated?)". `out` is only written on success.
bool load_model(const void *data, size_t size, Model &out, std::string &err);

}  // namespace bf::llm
