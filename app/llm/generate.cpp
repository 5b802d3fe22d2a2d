// run.c's forward() and generate(), with the tensor math in bf::kern (kernels/kernels.h).
#include "generate.h"

#include <stdlib.h>
#include <string.h>

#include <chrono>

#include "jit/dispatch.h"

namespace bf::llm {
namespace {

constexpr uint64_t kAlign = 64;  // bytes; every buffer starts on a cache line

uint64_t round_up(uint64_t n) { return (n + kAlign - 1) / kAlign * kAlign; }

bool same_shape(const Config &a, const Config &b) {
    return a.dim == b.dim && a.hidden_dim == b.hidden_dim && a.n_layers == b.n_layers &&
           a.n_heads == b.n_heads && a.n_kv_heads == b.n_kv_heads &&
           a.vocab_size == b.vocab_size && a.seq_len == b.seq_len;
}

double ms_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
        .count();
}

}  // namespace

RunState::~RunState() { free(mem_); }

bool RunState::init(const Config &c, std::string &err, uint64_t max_bytes) {
    free(mem_);
    mem_ = nullptr;
    bytes_ = 0;
    // Counts in floats. The config passed load_model: every factor is bounded, so the products
    // cannot overflow 64 bits; the cap below catches the merely huge.
    const uint64_t kv = uint64_t(c.n_layers) * uint64_t(c.seq_len) * uint64_t(c.kv_dim);
    const uint64_t counts[10] = {
        uint64_t(c.dim), uint64_t(c.dim), uint64_t(c.dim), uint64_t(c.hidden_dim),
        uint64_t(c.hidden_dim), uint64_t(c.dim), uint64_t(c.n_heads) * uint64_t(c.seq_len),
        uint64_t(c.vocab_size), kv, kv};
    uint64_t total = 0;
    for (uint64_t n : counts) total += round_up(n * sizeof(float));
    if (c.dim <= 0 || c.kv_dim <= 0 || total > max_bytes) {
        err = "run state: " + std::to_string(total) + " bytes (KV cache n_layers " +
              std::to_string(c.n_layers) + " x seq_len " + std::to_string(c.seq_len) +
              " x kv_dim " + std::to_string(c.kv_dim) + " x 2) exceed the limit of " +
              std::to_string(max_bytes);
        return false;
    }
    mem_ = aligned_alloc(kAlign, size_t(total));
    if (!mem_) {
        err = "run state: out of memory allocating " + std::to_string(total) + " bytes";
        return false;
    }
    memset(mem_, 0, size_t(total));
    bytes_ = total;
    config = c;
    float **bufs[10] = {&x, &xb, &xb2, &hb, &hb2, &q, &att, &logits, &key_cache, &value_cache};
    unsigned char *p = static_cast<unsigned char *>(mem_);
    for (int i = 0; i < 10; i++) {
        *bufs[i] = reinterpret_cast<float *>(p);
        p += round_up(counts[i] * sizeof(float));
    }
    return true;
}

float *forward(const Model &m, RunState &s, int token, int pos) {
    const Config &p = m.config;
    const Weights &w = m.weights;
    if (!s.ready() || !same_shape(s.config, p)) return nullptr;
    if (token < 0 || token >= p.vocab_size || pos < 0 || pos >= p.seq_len) return nullptr;
    const int dim = p.dim, kv_dim = p.kv_dim, hidden_dim = p.hidden_dim;
    const size_t D = size_t(dim), KV = size_t(kv_dim), H = size_t(hidden_dim);

    memcpy(s.x, w.token_embedding_table + size_t(token) * D, D * sizeof(float));

    for (size_t l = 0; l < size_t(p.n_layers); l++) {
        // Attention block.
        kern::dispatch::rmsnorm(s.xb, s.x, w.rms_att_weight + l * D, dim);
        const size_t loff = l * size_t(p.seq_len) * KV;  // this layer's slice of the cache
        float *k = s.key_cache + loff + size_t(pos) * KV;
        float *v = s.value_cache + loff + size_t(pos) * KV;
        kern::dispatch::matvec(s.q, s.xb, w.wq + l * D * D, dim, dim);
        kern::dispatch::matvec(k, s.xb, w.wk + l * D * KV, dim, kv_dim);
        kern::dispatch::matvec(v, s.xb, w.wv + l * D * KV, dim, kv_dim);
        kern::dispatch::rope(s.q, k, pos, dim, kv_dim, p.head_size);
        kern::dispatch::attention(s.xb, s.att, s.q, s.key_cache + loff, s.value_cache + loff, pos,
                        p.n_heads, p.n_kv_heads, p.head_size);
        kern::dispatch::matvec(s.xb2, s.xb, w.wo + l * D * D, dim, dim);
        kern::dispatch::add(s.x, s.xb2, dim);

        // Feed-forward block: w2(silu(w1(x)) * w3(x)).
        kern::dispatch::rmsnorm(s.xb, s.x, w.rms_ffn_weight + l * D, dim);
        kern::dispatch::matvec(s.hb, s.xb, w.w1 + l * D * H, dim, hidden_dim);
        kern::dispatch::matvec(s.hb2, s.xb, w.w3 + l * D * H, dim, hidden_dim);
        kern::dispatch::swiglu(s.hb, s.hb2, hidden_dim);
        kern::dispatch::matvec(s.xb, s.hb, w.w2 + l * D * H, hidden_dim, dim);
        kern::dispatch::add(s.x, s.xb, dim);
    }
    // run.c normalizes x in place; a separate output gives the same values without asking the
    // kernel to support aliasing.
    kern::dispatch::rmsnorm(s.xb, s.x, w.rms_final_weight, dim);
    kern::dispatch::matvec(s.logits, s.xb, w.wcls, dim, p.vocab_size);
    return s.logits;
}

bool generate(const Model &m, const Tokenizer &tok, Sampler &sampler, std::string_view prompt,
              int steps, std::string &text, std::string &err, const GenerateHooks *hooks,
              GenerateStats *stats) {
    using clock = std::chrono::steady_clock;
    text.clear();
    const Config &c = m.config;
    if (tok.vocab_size != c.vocab_size || sampler.vocab_size != c.vocab_size) {
        err = "generate: the tokenizer (" + std::to_string(tok.vocab_size) + ") or sampler (" +
              std::to_string(sampler.vocab_size) + ") vocabulary differs from the model's (" +
              std::to_string(c.vocab_size) + ")";
        return false;
    }
    if (steps <= 0 || steps > c.seq_len) steps = c.seq_len;
    const std::vector<int> prompt_tokens = tok.encode(prompt, true, false);
    const int n_prompt = int(prompt_tokens.size());  // >= 1: BOS
    RunState s;
    if (!s.init(c, err)) return false;
    GenerateHooks none;
    const GenerateHooks &h = hooks ? *hooks : none;
    GenerateStats st;
    st.n_prompt_tokens = n_prompt;

    const auto t_start = clock::now();
    clock::time_point t_first{};  // run.c's timer: starts after the first position
    bool timer_started = false;
    int token = prompt_tokens[0];
    int pos = 0;
    while (pos < steps) {
        const float *logits = forward(m, s, token, pos);
        if (!logits) {
            err = "generate: token " + std::to_string(token) + " at position " +
                  std::to_string(pos) + " is outside the model";
            return false;
        }
        if (h.on_logits) h.on_logits(h.user, pos, token, logits, c.vocab_size);
        const bool in_prompt = pos < n_prompt - 1;
        int next;
        if (in_prompt) {
            next = prompt_tokens[size_t(pos) + 1];
        } else {
            next = sampler.sample(s.logits);
            st.n_generated++;
        }
        if (pos == n_prompt - 1) st.prompt_ms = ms_since(t_start);
        if (h.on_token) h.on_token(h.user, pos, token, next, in_prompt);
        pos++;
        if (next == kBosToken) break;  // BOS delimits sequences
        const char *piece = tok.decode(token, next);
        if (piece_is_printable(piece)) {
            text += piece;
            if (h.on_piece) h.on_piece(h.user, piece);
        }
        token = next;
        if (!timer_started) {
            t_first = clock::now();
            timer_started = true;
        }
    }
    const double total_ms = ms_since(t_start);
    st.n_positions = pos;
    if (pos < n_prompt) st.prompt_ms = total_ms;
    st.gen_ms = total_ms - st.prompt_ms;
    if (pos > 1 && timer_started) {
        const double ms = ms_since(t_first);
        st.runc_tok_per_s = ms > 0 ? (pos - 1) / ms * 1000.0 : 0.0;
    }
    if (stats) *stats = st;
    return true;
}

}  // namespace bf::llm
