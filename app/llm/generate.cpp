// run.c's forward() and generate(); the tensor math goes through the dispatch table (jit/dispatch.h).
#include "generate.h"

#include <stdlib.h>
#include <string.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <initializer_list>
#include <tuple>

#include "bareflow/kernel.h"
#include "bareflow/pool.h"
#include "jit/dispatch.h"
#include "jit/kernels/quant.h"
#include "pool_calls.h"

namespace bf::llm {
namespace quant = kern::quant;
namespace {
using namespace pool_calls;

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

constexpr int kBufs = 14 + RunState::kActFormats;

// The state's buffers in bytes, in RunState's member order. The config passed its loader: every
// factor is bounded, so the products cannot overflow 64 bits.
void buffer_sizes(const Config &c, uint64_t sizes[kBufs]) {
    const uint64_t F = sizeof(float), kv_elem = c.kv_f16 ? 2 : 4;
    const uint64_t kv = uint64_t(c.n_layers) * uint64_t(c.seq_len) * uint64_t(c.kv_dim) * kv_elem;
    const uint64_t B = RunState::kBatch, D = uint64_t(c.dim), H = uint64_t(c.hidden_dim), V = uint64_t(c.vocab_size);
    const uint64_t widest = D > H ? D : H;
    const uint64_t s[kBufs] = {
        B * uint64_t(c.n_heads) * uint64_t(c.seq_len) * F, V * F, kv, kv,
        B * D * F, B * D * F, B * D * F, B * D * F, B * H * F, B * H * F, B * V * F,
        B * uint64_t(c.kv_dim) * F, B * uint64_t(c.kv_dim) * F, B * (widest > V ? widest : V) * F,
        // xq, one per activation format, kBatch rows: fp16/bf16 take 2 bytes a value, Q8_0/Q8_1
        // 34/36 bytes per 32, Q8_K 292 per 256, so 2 bytes a value covers them all
        B * widest * 2, B * widest * 2, B * widest * 2, B * widest * 2, B * widest * 2};
    static_assert(RunState::kActFormats == 5, "one xq buffer per activation format");
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
        reinterpret_cast<void **>(&att), reinterpret_cast<void **>(&logits), &key_cache, &value_cache,
        reinterpret_cast<void **>(&x), reinterpret_cast<void **>(&xb), reinterpret_cast<void **>(&xb2),
        reinterpret_cast<void **>(&q), reinterpret_cast<void **>(&hb), reinterpret_cast<void **>(&hb2),
        reinterpret_cast<void **>(&blogits), reinterpret_cast<void **>(&k), reinterpret_cast<void **>(&v), reinterpret_cast<void **>(&parts), &xq[0], &xq[1], &xq[2], &xq[3], &xq[4]};
    unsigned char *p = static_cast<unsigned char *>(mem_);
    for (int i = 0; i < kBufs; i++) {
        *bufs[i] = p;
        p += round_up(sizes[i]);
    }
    return true;
}

namespace {

// How a weight type multiplies: the activation format its dot products take (llama.cpp's "vec
// dot type"), its matvec and its matmat (several positions per weight read), resolved per call
// (kern::bind) so that the calls can be made on any core.
namespace B = kern::bind;
using BindConvert = jit::Bound<void *, const float *, int> (*)(void *, const float *, int);
using BindMV = jit::Bound<float *, const void *, const void *, int, int> (*)(float *, const void *, const void *, int, int);
using BindMM = jit::Bound<float *, const void *, const void *, int, int, int> (*)(float *, const void *, const void *,
                                                                                int, int, int);
enum ActFormat { kQ8_0, kQ8_1, kQ8_K, kF16, kBF16 };
struct TypeOps {
    ActFormat format;
    BindMV mv;
    BindMM mm;
};
bool type_ops(uint32_t type, TypeOps &o) {
    switch (type) {
    case quant::F16: o = {kF16, B::matvec_f16, B::matmat_f16}; return true;
    case quant::BF16: o = {kBF16, B::matvec_bf16, B::matmat_bf16}; return true;
    case quant::Q8_0: o = {kQ8_0, B::matvec_q8_0, B::matmat_q8_0}; return true;
    case quant::Q4_0: o = {kQ8_0, B::matvec_q4_0, B::matmat_q4_0}; return true;
    case quant::Q4_0_X8: o = {kQ8_0, B::matvec_q4_0x8, B::matmat_q4_0x8}; return true;
    case quant::Q5_0: o = {kQ8_0, B::matvec_q5_0, B::matmat_q5_0}; return true;
    case quant::Q4_1: o = {kQ8_1, B::matvec_q4_1, B::matmat_q4_1}; return true;
    case quant::Q5_1: o = {kQ8_1, B::matvec_q5_1, B::matmat_q5_1}; return true;
    case quant::Q2_K: o = {kQ8_K, B::matvec_q2_k, B::matmat_q2_k}; return true;
    case quant::Q3_K: o = {kQ8_K, B::matvec_q3_k, B::matmat_q3_k}; return true;
    case quant::Q4_K: o = {kQ8_K, B::matvec_q4_k, B::matmat_q4_k}; return true;
    case quant::Q5_K: o = {kQ8_K, B::matvec_q5_k, B::matmat_q5_k}; return true;
    case quant::Q6_K: o = {kQ8_K, B::matvec_q6_k, B::matmat_q6_k}; return true;
    default: return false;
    }
}

// Bytes of one activation row of n values in a format.
size_t act_row_bytes(ActFormat f, int n) {
    switch (f) {
    case kQ8_0: return size_t(n / quant::QK8_0) * sizeof(quant::block_q8_0);
    case kQ8_1: return size_t(n / quant::QK8_1) * sizeof(quant::block_q8_1);
    case kQ8_K: return size_t(n / quant::QK_K) * sizeof(quant::block_q8_K);
    default: return size_t(n) * 2;
    }
}

// An activation of m positions (rows of n floats), converted on demand into the format each
// weight type's dot products take, once per format: q, k and v (and w1 and w3) read the same
// input, so they share one conversion (in s.xq[format]).
struct Activation {
    RunState &s;
    const float *x;
    int n, m;
    unsigned done = 0;  // bit f: s.xq[f] holds x in format f

    const void *as(ActFormat f) {
        if (!(done & (1u << f))) {
            static const BindConvert convert[] = {B::quantize_q8_0, B::quantize_q8_1, B::quantize_q8_k, B::to_f16,
                                                  B::to_bf16};
            const size_t row = act_row_bytes(f, n);
            each(m, convert[f], [&](int p) {
                return std::make_tuple(static_cast<void *>(static_cast<char *>(s.xq[f]) + size_t(p) * row),
                                       x + size_t(p) * n, n);
            });
            done |= 1u << f;
        }
        return s.xq[f];
    }
};

// out (m rows of w.rows) = W x for each of the activation's m positions, whatever type W is
// stored in: F32 by matvec or sgemm; the others on the activation in their dot-product format,
// by matvec for one position, by the type's matmat for several.
void matmul(float *out, Activation &a, const Matrix &w) {
    const int n = w.cols, d = w.rows, m = a.m;
    // One chunk (one core) writes out directly; several leave m x rows blocks in parts (m = 1:
    // the same layout as out) for interleave().
    const int step = chunk_size(d, kRowAlign, kChunksPerCore), rows_per_call = step ? step : d;
    float *dst = m > 1 && step ? a.s.parts : out;
    if (w.type == quant::F32) {
        const float *wf = w.f32();
        if (m == 1)
            split(d, rows_per_call, B::matvec, [&](int r0, int rows) {
                return std::make_tuple(dst + r0, a.x, wf + size_t(r0) * size_t(n), n, rows);
            });
        else
            split(d, rows_per_call, B::sgemm, [&](int r0, int rows) {
                return std::make_tuple(dst + size_t(r0) * size_t(m), a.x, wf + size_t(r0) * size_t(n), m, rows, n,
                                       true);
            });
    } else {
        TypeOps o;
        if (!type_ops(w.type, o)) return;  // the loaders only accept the types above (matmul_supported)
        const void *xq = a.as(o.format);
        const char *wq = static_cast<const char *>(w.data);
        if (m == 1)
            split(d, rows_per_call, o.mv, [&](int r0, int rows) {
                return std::make_tuple(dst + r0, xq, static_cast<const void *>(wq + size_t(r0) * w.row_bytes), n, rows);
            });
        else
            split(d, rows_per_call, o.mm, [&](int r0, int rows) {
                return std::make_tuple(dst + size_t(r0) * size_t(m), xq,
                                       static_cast<const void *>(wq + size_t(r0) * w.row_bytes), n, rows, m);
            });
    }
    if (dst != out) interleave(out, dst, m, d, step);
}

// One position through matrices that read the same input (q, k and v; w1 and w3): their row
// chunks in one pool job, so one barrier instead of one per matrix (token generation makes ~7
// matmul jobs a layer, each a wake-up and a barrier). Each chunk is the call matmul() would make.
template <typename X>  // const float * (F32 weights) or const void * (the others, in their format)
struct RowCalls {
    jit::Bound<float *, X, X, int, int> full, last;
    float *out;
    X x;
    const char *w;
    size_t row_bytes;
    int n, d, step, chunks;
    auto args(int r0, int rows) const {
        return std::make_tuple(out + r0, x, reinterpret_cast<X>(w + size_t(r0) * row_bytes), n, rows);
    }
};

template <typename X>
void run_row_calls(RowCalls<X> *c, int count) {
    int first[4], total = 0;
    for (int j = 0; j < count; j++) first[j] = total, total += c[j].chunks;
    uint64_t cycles[4 * kMaxChunks];
    pool::for_each(total, [&](int idx) {
        int j = count - 1;
        while (idx < first[j]) j--;
        const int i = idx - first[j], r0 = i * c[j].step, rows = std::min(c[j].step, c[j].d - r0);
        uint64_t t0 = prof::begin();
        std::apply(i == c[j].chunks - 1 ? c[j].last.fn : c[j].full.fn, c[j].args(r0, rows));
        cycles[idx] = prof::begin() - t0;
    });
    for (int j = 0; j < count; j++)
        for (int i = 0; i < c[j].chunks; i++) {
            const auto &b = i == c[j].chunks - 1 ? c[j].last : c[j].full;
            jit::after_call(b.slot, reinterpret_cast<void *>(b.fn), cycles[first[j] + i]);
        }
}

template <typename X, typename Bind>
RowCalls<X> row_calls(float *out, X x, const Matrix &w, Bind bind) {
    RowCalls<X> c;
    c.out = out, c.x = x, c.w = static_cast<const char *>(w.data), c.row_bytes = w.row_bytes, c.n = w.cols, c.d = w.rows;
    c.step = chunk_size(c.d, kRowAlign, kChunksPerCore);
    if (!c.step) c.step = c.d;
    c.chunks = (c.d + c.step - 1) / c.step;
    c.full = std::apply(bind, c.args(0, c.step));
    c.last = std::apply(bind, c.args((c.chunks - 1) * c.step, c.d - (c.chunks - 1) * c.step));
    return c;
}

// out[j] = w[j] x for each of the matrices (up to 4): one pool job for one position when they are
// all F32 or all quantized, else (and for a batch) one matmul after the other.
void matmuls(Activation &a, std::initializer_list<std::pair<float *, const Matrix *>> list) {
    bool f32 = true, quantized = true;
    for (auto &[out, w] : list) f32 &= w->type == quant::F32, quantized &= w->type != quant::F32;
    if (a.m != 1 || list.size() > 4 || !(f32 || quantized)) {
        for (auto &[out, w] : list) matmul(out, a, *w);
        return;
    }
    int k = 0;
    if (f32) {
        RowCalls<const float *> c[4];
        for (auto &[out, w] : list) c[k++] = row_calls(out, a.x, *w, B::matvec);
        run_row_calls(c, k);
        return;
    }
    RowCalls<const void *> c[4];
    for (auto &[out, w] : list) {
        TypeOps o;
        if (!type_ops(w->type, o)) return;  // the loaders only accept the types above (matmul_supported)
        c[k++] = row_calls(out, a.as(o.format), *w, o.mv);
    }
    run_row_calls(c, k);
}

}  // namespace

bool matmul_supported(uint32_t type) {
    TypeOps o;
    return type == quant::F32 || type_ops(type, o);
}

float *forward(const Model &m, RunState &s, int token, int pos) {
    return forward_batch(m, s, &token, 1, pos, false) ? s.logits : nullptr;
}

bool forward_batch(const Model &m, RunState &s, const int *tokens, int n, int pos0, bool all_logits) {
    const Config &p = m.config;
    const Weights &w = m.weights;
    if (!s.ready() || !same_shape(s.config, p)) return false;
    if (n < 1 || n > RunState::kBatch || pos0 < 0 || pos0 > p.seq_len - n) return false;
    for (int i = 0; i < n; i++)
        if (tokens[i] < 0 || tokens[i] >= p.vocab_size) return false;
    namespace K = kern::dispatch;
    const int dim = p.dim, kv_dim = p.kv_dim, hidden_dim = p.hidden_dim;
    const size_t D = size_t(dim), KV = size_t(kv_dim), H = size_t(hidden_dim);
    const size_t kv_elem = p.kv_f16 ? 2 : 4;
    const float eps = p.norm_eps;
    const Matrix &emb = w.token_embedding;
    for (int i = 0; i < n; i++)
        quant::dequantize_row(emb.type, static_cast<const char *>(emb.data) + size_t(tokens[i]) * emb.row_bytes,
                              s.x + i * D, dim);

    for (size_t l = 0; l < size_t(p.n_layers); l++) {
        const Layer &y = w.layers[l];
        // Attention block. This layer's slice of the cache; the positions' rows in it are
        // consecutive, so an fp32 cache takes k and v in place (an fp16 one gets them rounded
        // after RoPE).
        each(n, B::rmsnorm, [&](int i) { return std::make_tuple(s.xb + i * D, s.x + i * D, y.attn_norm, dim, eps); });
        const size_t loff = l * size_t(p.seq_len) * KV * kv_elem;
        char *kc = static_cast<char *>(s.key_cache) + loff, *vc = static_cast<char *>(s.value_cache) + loff;
        float *k = p.kv_f16 ? s.k : reinterpret_cast<float *>(kc + size_t(pos0) * KV * kv_elem);
        float *v = p.kv_f16 ? s.v : reinterpret_cast<float *>(vc + size_t(pos0) * KV * kv_elem);
        Activation attn_in{s, s.xb, dim, n};
        matmuls(attn_in, {{s.q, &y.wq}, {k, &y.wk}, {v, &y.wv}});
        if (y.bq) {  // qwen2
            each(n, B::add, [&](int i) { return std::make_tuple(s.q + i * D, y.bq, dim); });
            each(n, B::add, [&](int i) { return std::make_tuple(k + i * KV, y.bk, kv_dim); });
            each(n, B::add, [&](int i) { return std::make_tuple(v + i * KV, y.bv, kv_dim); });
        }
        if (p.rope_neox)
            each(n, B::rope_neox, [&](int i) {
                return std::make_tuple(s.q + i * D, k + i * KV, pos0 + i, dim, kv_dim, p.head_size, p.rope_theta);
            });
        else
            each(n, B::rope, [&](int i) {
                return std::make_tuple(s.q + i * D, k + i * KV, pos0 + i, dim, kv_dim, p.head_size, p.rope_theta,
                                       w.rope_factors);
            });
        if (p.kv_f16) {
            each(n, B::to_f16, [&](int i) {
                return std::make_tuple(static_cast<void *>(kc + size_t(pos0 + i) * KV * kv_elem), k + i * KV, kv_dim);
            });
            each(n, B::to_f16, [&](int i) {
                return std::make_tuple(static_cast<void *>(vc + size_t(pos0 + i) * KV * kv_elem), v + i * KV, kv_dim);
            });
        }
        // Position pos0+i attends to 0..pos0+i only (causal), so writing every row's K and V
        // first is the same as one position at a time. Each position has its own scores (att).
        const size_t att_row = size_t(p.n_heads) * size_t(p.seq_len);
        if (p.kv_f16)
            attend(n, p.n_heads, B::attention_f16, [&](int i, int h0, int h1) {
                return std::make_tuple(s.xb + i * D, s.att + size_t(i) * att_row, static_cast<const float *>(s.q + i * D),
                                       static_cast<const void *>(kc), static_cast<const void *>(vc), pos0 + i,
                                       p.n_heads, p.n_kv_heads, p.head_size, h0, h1);
            });
        else
            attend(n, p.n_heads, B::attention, [&](int i, int h0, int h1) {
                return std::make_tuple(s.xb + i * D, s.att + size_t(i) * att_row, static_cast<const float *>(s.q + i * D),
                                       static_cast<const float *>(reinterpret_cast<float *>(kc)),
                                       static_cast<const float *>(reinterpret_cast<float *>(vc)), pos0 + i, p.n_heads,
                                       p.n_kv_heads, p.head_size, h0, h1);
            });
        Activation attn_out{s, s.xb, dim, n};
        matmul(s.xb2, attn_out, y.wo);
        each(n, B::add, [&](int i) { return std::make_tuple(s.x + i * D, static_cast<const float *>(s.xb2 + i * D), dim); });

        // Feed-forward block: w2(silu(w1(x)) * w3(x)).
        each(n, B::rmsnorm, [&](int i) { return std::make_tuple(s.xb + i * D, s.x + i * D, y.ffn_norm, dim, eps); });
        Activation ffn_in{s, s.xb, dim, n};
        matmuls(ffn_in, {{s.hb, &y.w1}, {s.hb2, &y.w3}});
        each(n, B::swiglu, [&](int i) { return std::make_tuple(s.hb + i * H, static_cast<const float *>(s.hb2 + i * H), hidden_dim); });
        Activation ffn_mid{s, s.hb, hidden_dim, n};
        matmul(s.xb, ffn_mid, y.w2);
        each(n, B::add, [&](int i) { return std::make_tuple(s.x + i * D, static_cast<const float *>(s.xb + i * D), dim); });
    }
    // run.c normalizes x in place; a separate output gives the same values without asking the
    // kernel to support aliasing.
    if (all_logits) {
        each(n, B::rmsnorm, [&](int i) { return std::make_tuple(s.xb + i * D, s.x + i * D, w.rms_final_weight, dim, eps); });
        Activation last{s, s.xb, dim, n};
        matmul(s.blogits, last, w.wcls);
    } else {
        K::rmsnorm(s.xb, s.x + size_t(n - 1) * D, w.rms_final_weight, dim, eps);
        Activation last{s, s.xb, dim, 1};
        matmul(s.logits, last, w.wcls);
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

bool check_logits(const float *logits, int n, int pos, std::string &err) {
    for (int v = 0; v < n; v++)
        if (!std::isfinite(logits[v])) {
            err = "the logits at position " + std::to_string(pos) + " are not finite (logit " + std::to_string(v) +
                  " is " + std::to_string(logits[v]) + "): the model's activations overflowed";
            return false;
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
    // The clock starts before the encoding: a long prompt's encoding is part of the wait for the
    // first token, and the summary says how much of it.
    const auto t_start = clock::now();
    std::vector<int> prompt_tokens = tok.encode_prompt(prompt);
    if (prompt_tokens.empty()) prompt_tokens.push_back(0);  // a vocabulary without BOS, empty text
    const int n_prompt = int(prompt_tokens.size());
    GenerateStats st;
    st.encode_ms = ms_since(t_start);
    st.n_prompt_tokens = n_prompt;
    // run.c would feed the prompt until the context is full and generate nothing: say so instead.
    if (n_prompt > c.seq_len) {
        err = "the prompt is " + std::to_string(n_prompt) + " tokens but the context is " +
              std::to_string(c.seq_len) + " positions: shorten the prompt";
        if (stats) *stats = st;
        return false;
    }
    RunState s;
    if (!s.init(c, err)) return false;
    GenerateHooks none;
    const GenerateHooks &h = hooks ? *hooks : none;

    // run.c's timer starts after its first position; here after the first forward call (the
    // first prompt batch), counting the positions computed after it.
    clock::time_point t_first{};
    bool timer_started = false;
    int pos_at_timer = 0;
    int token = prompt_tokens[0];
    int pos = 0;
    // Prompt positions run batched (each weight matrix read once per batch).
    const int n_batched = n_prompt < steps ? n_prompt : steps;
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
            if (!check_logits(logits, c.vocab_size, pos, err)) {
                if (stats) *stats = st;
                return false;
            }
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
