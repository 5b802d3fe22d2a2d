// The transformer forward pass (run.c's forward(), with the math in bf::kern) and run.c's
// generation loop.
#pragma once
#include <stdint.h>

#include <string>
#include <string_view>

#include "codec.h"
#include "model.h"
#include "sampler.h"
#include "tokenizer.h"

namespace bf::llm {

// Activations and the KV cache for one sequence, sized from the model: one 64-byte-aligned
// block, zeroed, carved into buffers each starting on a 64-byte boundary.
class RunState {
public:
    RunState() = default;
    ~RunState();
    RunState(const RunState &) = delete;
    RunState &operator=(const RunState &) = delete;

    // Allocates for `c`. Fails (false, err set) if the state would exceed max_bytes or the
    // allocation fails; never aborts.
    bool init(const Config &c, std::string &err, uint64_t max_bytes = kDefaultMaxBytes);
    bool ready() const { return mem_ != nullptr; }
    // What init(c) allocates: activations, the KV cache (the bulk: 2 x layers x seq_len x kv_dim).
    static uint64_t bytes_for(const Config &c);
    uint64_t bytes() const { return bytes_; }

    static constexpr uint64_t kDefaultMaxBytes = uint64_t(1) << 36;
    static constexpr int kBatch = 32;  // positions per forward_batch call

    static constexpr int kActFormats = 5;  // Q8_0, Q8_1, Q8_K, fp16, bf16 (generate.cpp)

    Config config;              // what it was sized for
    float *att = nullptr;       // kBatch x n_heads x seq_len: a batch's positions run on several cores
    float *logits = nullptr;    // vocab_size: the last position's logits
    void *key_cache = nullptr;     // n_layers x seq_len x kv_dim, fp32 or fp16 (config.kv_f16)
    void *value_cache = nullptr;   // n_layers x seq_len x kv_dim
    // The forward pass's activations: up to kBatch positions, one row each.
    float *x = nullptr;         // kBatch x dim: the residual stream
    float *xb = nullptr, *xb2 = nullptr, *q = nullptr;  // kBatch x dim
    float *hb = nullptr, *hb2 = nullptr;                // kBatch x hidden_dim
    float *blogits = nullptr;                           // kBatch x vocab_size (all_logits)
    float *k = nullptr;         // kBatch x kv_dim: keys before they are rounded into an fp16 cache
    float *v = nullptr;         // kBatch x kv_dim: and values
    float *parts = nullptr;     // kBatch x max(dim, hidden_dim, vocab): a batched matmul's row chunks
    // The activations in each weight type's dot-product format (kBatch rows), by format.
    void *xq[kActFormats] = {};

private:
    void *mem_ = nullptr;
    uint64_t bytes_ = 0;
};

// The weight types forward() multiplies by (F32, F16, Q8_0, Q4_0, Q5_0: ggml type ids); the
// loaders refuse a model with any other.
bool matmul_supported(uint32_t type);

// One position: token in, logits (vocab_size values in s.logits) out; forward_batch with n = 1.
// Positions must be fed in order from 0 (the KV cache holds 0..pos-1). Returns nullptr if token
// or pos is out of range or the state was not sized for this model.
float *forward(const Model &m, RunState &s, int token, int pos);

// Positions pos0 .. pos0+n-1 at once (1 <= n <= RunState::kBatch, pos0 + n <= seq_len), the
// forward pass (run.c's forward() for n positions): each weight matrix is applied to all n
// positions by one sgemm (F32) or matmat (quantized: each weight block read and unpacked once
// per 4 positions) instead of n matvecs, and the activation conversions are shared by the
// matrices that read the same input. Same math as n single positions up to summation order. Logits: every row into s.blogits (row i = position
// pos0+i) if all_logits, else only the last position's, into s.logits. Returns false (nothing
// run) for a token or position out of range or a state not sized for this model.
bool forward_batch(const Model &m, RunState &s, const int *tokens, int n, int pos0, bool all_logits);

// Per-token hooks for the caller (printing, tracing, timing); any may be null.
struct GenerateHooks {
    void *user = nullptr;
    // After the forward pass at `pos` for input `token`, before sampling (which scales the
    // logits in place): the raw logits.
    void (*on_logits)(void *user, int pos, int token, const float *logits, int n) = nullptr;
    // Each piece run.c would print (safe_printf's filter applied), in order.
    void (*on_piece)(void *user, const char *piece) = nullptr;
    // After position `pos` is done: `next` is the following token (forced while in_prompt).
    void (*on_token)(void *user, int pos, int token, int next, bool in_prompt) = nullptr;
};

// Before sampling: NaN/Inf logits (finite weights whose products overflow) would be sampled as
// token 0 (<unk>) forever. False with err naming the position and the first bad logit. Shared by
// generate() and the chat session.
bool check_logits(const float *logits, int n, int pos, std::string &err);

// The step after sampling `next` (following `prev`): false when it ends generation
// (Codec::ends); else its piece goes to `text` and hooks.on_piece. Shared by generate() and the
// chat session (chat.h).
bool emit_token(const Codec &tok, int prev, int next, std::string &text, const GenerateHooks &hooks);

struct GenerateStats {
    int n_prompt_tokens = 0;  // including BOS
    int n_positions = 0;      // forward passes run
    int n_generated = 0;      // tokens sampled
    double encode_ms = 0;     // encoding the prompt into tokens (included in prompt_ms)
    double prompt_ms = 0;     // encoding + forward passes over the prompt (= time to the first token)
    double gen_ms = 0;        // the remaining forward passes and sampling
    double runc_tok_per_s = 0;  // run.c's "achieved tok/s" (timer from the end of position 0)
};

// run.c's generate(): encode the prompt (with BOS; a prompt longer than the context is an error
// naming both, where run.c would generate nothing), run positions 0..steps-1 (steps <= 0 or
// above seq_len means seq_len), force the prompt tokens then sample, stop early when the codec
// says (run.c: BOS; GGUF: end of generation).
// The prompt's positions go through forward_batch, kBatch at a time; the rest one by one.
// `text` receives what run.c prints, without its final newline.
bool generate(const Model &m, const Codec &tok, Sampler &sampler, std::string_view prompt, int steps,
              std::string &text, std::string &err, const GenerateHooks *hooks = nullptr,
              GenerateStats *stats = nullptr);
// The same with a llama2.c tokenizer.
bool generate(const Model &m, const Tokenizer &tok, Sampler &sampler, std::string_view prompt, int steps,
              std::string &text, std::string &err, const GenerateHooks *hooks = nullptr,
              GenerateStats *stats = nullptr);

}  // namespace bf::llm
