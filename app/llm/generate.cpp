// run.c's forward() and generate(); the tensor math goes through the dispatch table (jit/dispatch.h).
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
    const uint64_t B = kBatch;
    constexpr int kBufs = 17;
    const uint64_t counts[kBufs] = {
        uint64_t(c.dim), uint64_t(c.dim), uint64_t(c.dim), uint64_t(c.hidden_dim),
        uint64_t(c.hidden_dim), uint64_t(c.dim), uint64_t(c.n_heads) * uint64_t(c.seq_len),
        uint64_t(c.vocab_size), kv, kv,
        B * uint64_t(c.dim), B * uint64_t(c.dim), B * uint64_t(c.dim), B * uint64_t(c.dim),
        B * uint64_t(c.hidden_dim), B * uint64_t(c.hidden_dim), B * uint64_t(c.vocab_size)};
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
    float **bufs[kBufs] = {&x,  &xb,  &xb2,  &hb, &hb2,  &q,    &att,    &logits, &key_cache,
                           &value_cache, &bx, &bxb, &bxb2, &bq, &bhb, &bhb2, &blogits};
    unsigned char *p = static_cast<unsigned char *>(mem_);
    for (int i = 0; i < kBufs; i++) {
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

bool forward_batch(const Model &m, RunState &s, const int *tokens, int n, int pos0, bool all_logits) {
    const Config &p = m.config;
    const Weights &w = m.weights;
    if (!s.ready() || !same_shape(s.config, p)) return false;
    if (n < 1 || n > RunState::kBatch || pos0 < 0 || pos0 > p.seq_len - n) return false;
    for (int i = 0; i < n; i++)
        if (tokens[i] < 0 || tokens[i] >= p.vocab_size) return false;
    const int dim = p.dim, kv_dim = p.kv_dim, hidden_dim = p.hidden_dim;
    const size_t D = size_t(dim), KV = size_t(kv_dim), H = size_t(hidden_dim);

    for (int i = 0; i < n; i++)
        memcpy(s.bx + i * D, w.token_embedding_table + size_t(tokens[i]) * D, D * sizeof(float));

    // C (n x d) = X (n x k) . W^T, W being d x k like every llama2.c matrix.
    // One position is a matvec: the same dispatch slot (and JIT code) as forward()'s.
    auto linear = [n](float *c, const float *x, const float *wt, int d, int k) {
        if (n == 1) kern::dispatch::matvec(c, x, wt, k, d);
        else kern::dispatch::sgemm(c, x, wt, n, d, k, true);
    };
    for (size_t l = 0; l < size_t(p.n_layers); l++) {
        for (int i = 0; i < n; i++) kern::dispatch::rmsnorm(s.bxb + i * D, s.bx + i * D, w.rms_att_weight + l * D, dim);
        // K and V rows of positions pos0.. are consecutive in the cache: written in place.
        const size_t loff = l * size_t(p.seq_len) * KV;
        float *k = s.key_cache + loff + size_t(pos0) * KV;
        float *v = s.value_cache + loff + size_t(pos0) * KV;
        linear(s.bq, s.bxb, w.wq + l * D * D, dim, dim);
        linear(k, s.bxb, w.wk + l * D * KV, kv_dim, dim);
        linear(v, s.bxb, w.wv + l * D * KV, kv_dim, dim);
        // Position pos0+i attends to 0..pos0+i only (causal), so computing every row's K and V
        // first is the same as forward()'s one position at a time.
        for (int i = 0; i < n; i++) {
            kern::dispatch::rope(s.bq + i * D, k + i * KV, pos0 + i, dim, kv_dim, p.head_size);
            kern::dispatch::attention(s.bxb + i * D, s.att, s.bq + i * D, s.key_cache + loff,
                                      s.value_cache + loff, pos0 + i, p.n_heads, p.n_kv_heads, p.head_size);
        }
        linear(s.bxb2, s.bxb, w.wo + l * D * D, dim, dim);
        for (int i = 0; i < n; i++) kern::dispatch::add(s.bx + i * D, s.bxb2 + i * D, dim);

        for (int i = 0; i < n; i++) kern::dispatch::rmsnorm(s.bxb + i * D, s.bx + i * D, w.rms_ffn_weight + l * D, dim);
        linear(s.bhb, s.bxb, w.w1 + l * D * H, hidden_dim, dim);
        linear(s.bhb2, s.bxb, w.w3 + l * D * H, hidden_dim, dim);
        for (int i = 0; i < n; i++) kern::dispatch::swiglu(s.bhb + i * H, s.bhb2 + i * H, hidden_dim);
        linear(s.bxb, s.bhb, w.w2 + l * D * H, dim, hidden_dim);
        for (int i = 0; i < n; i++) kern::dispatch::add(s.bx + i * D, s.bxb + i * D, dim);
    }
    if (all_logits) {
        for (int i = 0; i < n; i++) kern::dispatch::rmsnorm(s.bxb + i * D, s.bx + i * D, w.rms_final_weight, dim);
        linear(s.blogits, s.bxb, w.wcls, p.vocab_size, dim);
    } else {
        const float *last = s.bx + size_t(n - 1) * D;
        kern::dispatch::rmsnorm(s.xb, last, w.rms_final_weight, dim);
        kern::dispatch::matvec(s.logits, s.xb, w.wcls, dim, p.vocab_size);
    }
    return true;
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
    // run.c's timer starts after its first position; here after the first forward call (the
    // first prompt batch), counting the positions computed after it.
    clock::time_point t_first{};
    bool timer_started = false;
    int pos_at_timer = 0;
    int token = prompt_tokens[0];
    int pos = 0;
    const int n_batched = n_prompt < steps ? n_prompt : steps;  // prompt positions run batched
    const bool all_logits = h.on_logits != nullptr;
    int batch0 = 0, batch_end = 0;
    while (pos < steps) {
        float *logits;
        if (pos < n_batched) {
            if (pos == batch_end) {
                batch0 = pos;
                const int n = n_batched - pos < RunState::kBatch ? n_batched - pos : RunState::kBatch;
                if (!forward_batch(m, s, prompt_tokens.data() + pos, n, pos, all_logits)) {
                    err = "generate: the prompt's tokens at positions " + std::to_string(pos) + ".." +
                          std::to_string(pos + n - 1) + " are outside the model";
                    return false;
                }
                batch_end = pos + n;
            }
            // Without all_logits only the batch's last row has logits (in s.logits): the earlier
            // prompt positions need none (their next token is forced and no hook wants them).
            logits = all_logits ? s.blogits + size_t(pos - batch0) * size_t(c.vocab_size) : s.logits;
        } else {
            logits = forward(m, s, token, pos);
        }
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
            next = sampler.sample(logits);
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
        if (!timer_started && (pos >= n_batched || pos == batch_end)) {
            t_first = clock::now();
            timer_started = true;
            pos_at_timer = pos;
        }
    }
    const double total_ms = ms_since(t_start);
    st.n_positions = pos;
    if (pos < n_prompt) st.prompt_ms = total_ms;
    st.gen_ms = total_ms - st.prompt_ms;
    if (timer_started && pos > pos_at_timer) {
        const double ms = ms_since(t_first);
        st.runc_tok_per_s = ms > 0 ? (pos - pos_at_timer) / ms * 1000.0 : 0.0;
    }
    if (stats) *stats = st;
    return true;
}

}  // namespace bf::llm
