// run.c's forward() and generate(); the tensor math goes through the dispatch table (jit/dispatch.h).
#include "generate.h"

#include <stdlib.h>
#include <string.h>

#include <chrono>

#include "bareflow/kernel.h"
#include "jit/dispatch.h"
#include "jit/kernels/quant.h"

namespace bf::llm {
namespace quant = kern::quant;
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

namespace {

constexpr int kBufs = 20;

// The state's buffers in bytes, in RunState's member order. The config passed its loader: every
// factor is bounded, so the products cannot overflow 64 bits.
void buffer_sizes(const Config &c, uint64_t sizes[kBufs]) {
    const uint64_t F = sizeof(float), kv_elem = c.kv_f16 ? 2 : 4;
    const uint64_t kv = uint64_t(c.n_layers) * uint64_t(c.seq_len) * uint64_t(c.kv_dim) * kv_elem;
    const uint64_t B = RunState::kBatch, D = uint64_t(c.dim), H = uint64_t(c.hidden_dim), V = uint64_t(c.vocab_size);
    const uint64_t widest = D > H ? D : H;
    const uint64_t s[kBufs] = {
        D * F, D * F, D * F, H * F, H * F, D * F, uint64_t(c.n_heads) * uint64_t(c.seq_len) * F, V * F, kv, kv,
        B * D * F, B * D * F, B * D * F, B * D * F, B * H * F, B * H * F, B * V * F,
        widest * 2,  // xq: an activation as fp16/bf16 (2 bytes a value), Q8_0/Q8_1 (34/36 bytes per
                     // 32) or Q8_K (292 bytes per 256): 2 bytes a value covers them all
        uint64_t(c.kv_dim) * F, uint64_t(c.kv_dim) * F};
    for (int i = 0; i < kBufs; i++) sizes[i] = s[i];
}

}  // namespace

uint64_t RunState::bytes_for(const Config &c) {
    uint64_t sizes[kBufs], total = 0;
    buffer_sizes(c, sizes);
    for (uint64_t n : sizes) total += round_up(n);
    return total;
}

bool RunState::init(const Config &c, std::string &err, uint64_t max_bytes) {
    free(mem_);
    mem_ = nullptr;
    bytes_ = 0;
    uint64_t sizes[kBufs];
    buffer_sizes(c, sizes);
    uint64_t total = 0;
    for (uint64_t n : sizes) total += round_up(n);
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
    void **bufs[kBufs] = {
        reinterpret_cast<void **>(&x), reinterpret_cast<void **>(&xb), reinterpret_cast<void **>(&xb2),
        reinterpret_cast<void **>(&hb), reinterpret_cast<void **>(&hb2), reinterpret_cast<void **>(&q),
        reinterpret_cast<void **>(&att), reinterpret_cast<void **>(&logits), &key_cache, &value_cache,
        reinterpret_cast<void **>(&bx), reinterpret_cast<void **>(&bxb), reinterpret_cast<void **>(&bxb2),
        reinterpret_cast<void **>(&bq), reinterpret_cast<void **>(&bhb), reinterpret_cast<void **>(&bhb2),
        reinterpret_cast<void **>(&blogits), &xq, reinterpret_cast<void **>(&k), reinterpret_cast<void **>(&v)};
    unsigned char *p = static_cast<unsigned char *>(mem_);
    for (int i = 0; i < kBufs; i++) {
        *bufs[i] = p;
        p += round_up(sizes[i]);
    }
    return true;
}

namespace {

// out = W x, whatever type W is stored in. F32 is a plain matvec; the others take the
// activation in the type's dot-product format first (Q8_0, Q8_1 or Q8_K blocks, fp16, bf16), as
// llama.cpp does.
void matmul(RunState &s, float *out, const float *x, const Matrix &w) {
    namespace D = kern::dispatch;
    using MV = void (*)(float *, const void *, const void *, int, int);
    using Q = void (*)(void *, const float *, int);
    Q to = nullptr;
    MV mv = nullptr;
    switch (w.type) {
    case quant::F32: D::matvec(out, x, w.f32(), w.cols, w.rows); return;
    case quant::F16: to = D::to_f16, mv = D::matvec_f16; break;
    case quant::BF16: to = D::to_bf16, mv = D::matvec_bf16; break;
    case quant::Q8_0: to = D::quantize_q8_0, mv = D::matvec_q8_0; break;
    case quant::Q4_0: to = D::quantize_q8_0, mv = D::matvec_q4_0; break;
    case quant::Q5_0: to = D::quantize_q8_0, mv = D::matvec_q5_0; break;
    case quant::Q4_1: to = D::quantize_q8_1, mv = D::matvec_q4_1; break;
    case quant::Q5_1: to = D::quantize_q8_1, mv = D::matvec_q5_1; break;
    case quant::Q2_K: to = D::quantize_q8_k, mv = D::matvec_q2_k; break;
    case quant::Q3_K: to = D::quantize_q8_k, mv = D::matvec_q3_k; break;
    case quant::Q4_K: to = D::quantize_q8_k, mv = D::matvec_q4_k; break;
    case quant::Q5_K: to = D::quantize_q8_k, mv = D::matvec_q5_k; break;
    case quant::Q6_K: to = D::quantize_q8_k, mv = D::matvec_q6_k; break;
    default: return;  // the loaders only accept the types above (matmul_supported)
    }
    to(s.xq, x, w.cols);
    mv(out, s.xq, w.data, w.cols, w.rows);
}

}  // namespace

bool matmul_supported(uint32_t type) {
    switch (type) {
    case quant::F32: case quant::F16: case quant::BF16: case quant::Q8_0: case quant::Q4_0: case quant::Q5_0:
    case quant::Q4_1: case quant::Q5_1: case quant::Q2_K: case quant::Q3_K: case quant::Q4_K: case quant::Q5_K:
    case quant::Q6_K:
        return true;
    default:
        return false;
    }
}

float *forward(const Model &m, RunState &s, int token, int pos) {
    const Config &p = m.config;
    const Weights &w = m.weights;
    if (!s.ready() || !same_shape(s.config, p)) return nullptr;
    if (token < 0 || token >= p.vocab_size || pos < 0 || pos >= p.seq_len) return nullptr;
    const int dim = p.dim, kv_dim = p.kv_dim, hidden_dim = p.hidden_dim;
    const size_t KV = size_t(kv_dim);
    const size_t kv_elem = p.kv_f16 ? 2 : 4;
    const Matrix &emb = w.token_embedding;
    quant::dequantize_row(emb.type, static_cast<const char *>(emb.data) + size_t(token) * emb.row_bytes, s.x, dim);

    for (size_t l = 0; l < size_t(p.n_layers); l++) {
        const Layer &y = w.layers[l];
        // Attention block. This layer's slice of the cache, and this position's row in it.
        kern::dispatch::rmsnorm(s.xb, s.x, y.attn_norm, dim, p.norm_eps);
        const size_t loff = l * size_t(p.seq_len) * KV * kv_elem;
        char *kc = static_cast<char *>(s.key_cache) + loff, *vc = static_cast<char *>(s.value_cache) + loff;
        // An fp32 cache takes k and v in place; an fp16 one gets them rounded after RoPE.
        float *k = p.kv_f16 ? s.k : reinterpret_cast<float *>(kc + size_t(pos) * KV * kv_elem);
        float *v = p.kv_f16 ? s.v : reinterpret_cast<float *>(vc + size_t(pos) * KV * kv_elem);
        matmul(s, s.q, s.xb, y.wq);
        matmul(s, k, s.xb, y.wk);
        matmul(s, v, s.xb, y.wv);
        if (y.bq) {  // qwen2
            kern::dispatch::add(s.q, y.bq, dim);
            kern::dispatch::add(k, y.bk, kv_dim);
            kern::dispatch::add(v, y.bv, kv_dim);
        }
        if (p.rope_neox) kern::dispatch::rope_neox(s.q, k, pos, dim, kv_dim, p.head_size, p.rope_theta);
        else kern::dispatch::rope(s.q, k, pos, dim, kv_dim, p.head_size, p.rope_theta, w.rope_factors);
        if (p.kv_f16) {
            kern::dispatch::to_f16(kc + size_t(pos) * KV * kv_elem, k, kv_dim);
            kern::dispatch::to_f16(vc + size_t(pos) * KV * kv_elem, v, kv_dim);
            kern::dispatch::attention_f16(s.xb, s.att, s.q, kc, vc, pos, p.n_heads, p.n_kv_heads, p.head_size);
        } else {
            kern::dispatch::attention(s.xb, s.att, s.q, reinterpret_cast<float *>(kc), reinterpret_cast<float *>(vc),
                                      pos, p.n_heads, p.n_kv_heads, p.head_size);
        }
        matmul(s, s.xb2, s.xb, y.wo);
        kern::dispatch::add(s.x, s.xb2, dim);

        // Feed-forward block: w2(silu(w1(x)) * w3(x)).
        kern::dispatch::rmsnorm(s.xb, s.x, y.ffn_norm, dim, p.norm_eps);
        matmul(s, s.hb, s.xb, y.w1);
        matmul(s, s.hb2, s.xb, y.w3);
        kern::dispatch::swiglu(s.hb, s.hb2, hidden_dim);
        matmul(s, s.xb, s.hb, y.w2);
        kern::dispatch::add(s.x, s.xb, dim);
    }
    // run.c normalizes x in place; a separate output gives the same values without asking the
    // kernel to support aliasing.
    kern::dispatch::rmsnorm(s.xb, s.x, w.rms_final_weight, dim, p.norm_eps);
    matmul(s, s.logits, s.xb, w.wcls);
    return s.logits;
}

bool forward_batch(const Model &m, RunState &s, const int *tokens, int n, int pos0, bool all_logits) {
    const Config &p = m.config;
    const Weights &w = m.weights;
    if (!s.ready() || !same_shape(s.config, p) || !m.batched_prompt()) return false;
    if (n < 1 || n > RunState::kBatch || pos0 < 0 || pos0 > p.seq_len - n) return false;
    for (int i = 0; i < n; i++)
        if (tokens[i] < 0 || tokens[i] >= p.vocab_size) return false;
    const int dim = p.dim, kv_dim = p.kv_dim, hidden_dim = p.hidden_dim;
    const size_t D = size_t(dim), KV = size_t(kv_dim), H = size_t(hidden_dim);
    const float eps = p.norm_eps;

    for (int i = 0; i < n; i++)
        memcpy(s.bx + i * D, w.token_embedding.f32() + size_t(tokens[i]) * D, D * sizeof(float));

    // C (n x rows) = X (n x cols) . W^T, every matrix being F32 here (batched_prompt()).
    // One position is a matvec: the same dispatch slot (and JIT code) as forward()'s.
    auto linear = [n](float *c, const float *x, const Matrix &wt) {
        if (n == 1) kern::dispatch::matvec(c, x, wt.f32(), wt.cols, wt.rows);
        else kern::dispatch::sgemm(c, x, wt.f32(), n, wt.rows, wt.cols, true);
    };
    for (size_t l = 0; l < size_t(p.n_layers); l++) {
        const Layer &y = w.layers[l];
        for (int i = 0; i < n; i++) kern::dispatch::rmsnorm(s.bxb + i * D, s.bx + i * D, y.attn_norm, dim, eps);
        // K and V rows of positions pos0.. are consecutive in the cache: written in place.
        const size_t loff = l * size_t(p.seq_len) * KV;
        float *kc = static_cast<float *>(s.key_cache) + loff, *vc = static_cast<float *>(s.value_cache) + loff;
        float *k = kc + size_t(pos0) * KV;
        float *v = vc + size_t(pos0) * KV;
        linear(s.bq, s.bxb, y.wq);
        linear(k, s.bxb, y.wk);
        linear(v, s.bxb, y.wv);
        // Position pos0+i attends to 0..pos0+i only (causal), so computing every row's K and V
        // first is the same as forward()'s one position at a time.
        for (int i = 0; i < n; i++) {
            kern::dispatch::rope(s.bq + i * D, k + i * KV, pos0 + i, dim, kv_dim, p.head_size, p.rope_theta,
                                 w.rope_factors);
            kern::dispatch::attention(s.bxb + i * D, s.att, s.bq + i * D, kc, vc, pos0 + i, p.n_heads, p.n_kv_heads,
                                      p.head_size);
        }
        linear(s.bxb2, s.bxb, y.wo);
        for (int i = 0; i < n; i++) kern::dispatch::add(s.bx + i * D, s.bxb2 + i * D, dim);

        for (int i = 0; i < n; i++) kern::dispatch::rmsnorm(s.bxb + i * D, s.bx + i * D, y.ffn_norm, dim, eps);
        linear(s.bhb, s.bxb, y.w1);
        linear(s.bhb2, s.bxb, y.w3);
        for (int i = 0; i < n; i++) kern::dispatch::swiglu(s.bhb + i * H, s.bhb2 + i * H, hidden_dim);
        linear(s.bxb, s.bhb, y.w2);
        for (int i = 0; i < n; i++) kern::dispatch::add(s.bx + i * D, s.bxb + i * D, dim);
    }
    if (all_logits) {
        for (int i = 0; i < n; i++) kern::dispatch::rmsnorm(s.bxb + i * D, s.bx + i * D, w.rms_final_weight, dim, eps);
        linear(s.blogits, s.bxb, w.wcls);
    } else {
        const float *last = s.bx + size_t(n - 1) * D;
        kern::dispatch::rmsnorm(s.xb, last, w.rms_final_weight, dim, eps);
        kern::dispatch::matvec(s.logits, s.xb, w.wcls.f32(), dim, p.vocab_size);
    }
    return true;
}

bool emit_token(const Codec &tok, int prev, int next, std::string &text, const GenerateHooks &h) {
    if (tok.ends(next)) return false;  // run.c: BOS delimits sequences; GGUF: end of generation
    const std::string piece = tok.piece(prev, next);
    if (!piece.empty()) {
        text += piece;
        if (h.on_piece) {
            // The text streams from here: other console output (JIT swaps, say) waits until the
            // caller's bf::console_release, so the text reads in one piece.
            bf::console_hold();
            h.on_piece(h.user, piece.c_str());
        }
    }
    return true;
}

bool generate(const Model &m, const Tokenizer &tok, Sampler &sampler, std::string_view prompt, int steps,
              std::string &text, std::string &err, const GenerateHooks *hooks, GenerateStats *stats) {
    Codec codec;
    codec.tok = &tok;
    return generate(m, codec, sampler, prompt, steps, text, err, hooks, stats);
}

bool generate(const Model &m, const Codec &tok, Sampler &sampler, std::string_view prompt,
              int steps, std::string &text, std::string &err, const GenerateHooks *hooks,
              GenerateStats *stats) {
    using clock = std::chrono::steady_clock;
    text.clear();
    const Config &c = m.config;
    if (tok.vocab_size() != c.vocab_size || sampler.vocab_size != c.vocab_size) {
        err = "generate: the tokenizer (" + std::to_string(tok.vocab_size()) + ") or sampler (" +
              std::to_string(sampler.vocab_size) + ") vocabulary differs from the model's (" +
              std::to_string(c.vocab_size) + ")";
        return false;
    }
    if (steps <= 0 || steps > c.seq_len) steps = c.seq_len;
    std::vector<int> prompt_tokens = tok.encode_prompt(prompt);
    if (prompt_tokens.empty()) prompt_tokens.push_back(0);  // a vocabulary without BOS, empty text
    const int n_prompt = int(prompt_tokens.size());
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
    // Prompt positions run batched (sgemm) when the model is all fp32; else one at a time.
    const int n_batched = !m.batched_prompt() ? 0 : n_prompt < steps ? n_prompt : steps;
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
        if (!emit_token(tok, token, next, text, h)) break;
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
