// load_model: validation of every header field and size; shared/separate classifier and
// grouped-query attention; forward() guards. The file loader (format sniffing, file errors).
#include <limits.h>
#include <math.h>

#include <cmath>
#include <cstring>

#include "llm/generate.h"
#include "llm/gguf.h"
#include "llm/gguf_write.h"
#include "llm/loader.h"
#include "llm/model.h"
#include "test_util.h"

using namespace llmtest;
using bf::llm::Model;

namespace {

const std::string kModel = shared_path("models/aidreams260K.bin");

// Loads `im` (first `size` bytes) and returns the error ("" on success).
std::string load_err(const Image &im, size_t size) {
    Model m;
    std::string err;
    const bool ok = bf::llm::load_model(im.data(), size, m, err);
    EXPECT_EQ(ok, err.empty()) << err;
    return ok ? "" : err;
}

struct HeaderCase {
    const char *what;
    int field;      // header index
    int32_t value;
    const char *message;  // substring the error must contain
};

// A synthetic checkpoint: header plus tensors in file order.
Image make_image(const int32_t (&h)[7], const std::vector<std::vector<float>> &tensors) {
    size_t n = 28;
    for (const auto &t : tensors) n += t.size() * 4;
    Image im;
    im.resize(n);
    memcpy(im.bytes(), h, 28);
    size_t off = 28;
    for (const auto &t : tensors) {
        memcpy(im.bytes() + off, t.data(), t.size() * 4);
        off += t.size() * 4;
    }
    return im;
}

// The tensors of a loaded model, in file order (freq_cis as zeros), optionally with n_kv heads
// and the classifier appended separately.
struct Tensors {
    std::vector<float> emb, rms_att, wq, wk, wv, wo, rms_ffn, w1, w2, w3, rms_final, freq;
};

Tensors split(const Model &m) {
    const auto &c = m.config;
    const auto &w = m.weights;
    const size_t L = c.n_layers, D = c.dim, H = c.hidden_dim, V = c.vocab_size, KV = c.kv_dim;
    auto v = [](const float *p, size_t n) { return std::vector<float>(p, p + n); };
    Tensors t;
    t.emb = v(w.token_embedding.f32(), V * D);
    // llama2.c stores each tensor for all layers contiguously: layer 0's pointer spans them.
    t.rms_att = v(w.layers[0].attn_norm, L * D);
    t.wq = v(w.layers[0].wq.f32(), L * D * D);
    t.wk = v(w.layers[0].wk.f32(), L * KV * D);
    t.wv = v(w.layers[0].wv.f32(), L * KV * D);
    t.wo = v(w.layers[0].wo.f32(), L * D * D);
    t.rms_ffn = v(w.layers[0].ffn_norm, L * D);
    t.w1 = v(w.layers[0].w1.f32(), L * H * D);
    t.w2 = v(w.layers[0].w2.f32(), L * D * H);
    t.w3 = v(w.layers[0].w3.f32(), L * H * D);
    t.rms_final = v(w.rms_final_weight, D);
    t.freq.assign(size_t(c.seq_len) * c.head_size / 2, 0.0f);
    return t;
}

std::vector<std::vector<float>> in_order(const Tensors &t) {
    return {t.emb, t.rms_att, t.wq, t.wk, t.wv, t.wo, t.rms_ffn, t.w1, t.w2, t.w3, t.rms_final,
            t.freq, t.freq};
}

// Logits at every position for a fixed token sequence.
std::vector<std::vector<float>> run(const Model &m, const std::vector<int> &tokens) {
    bf::llm::RunState s;
    std::string err;
    EXPECT_TRUE(s.init(m.config, err)) << err;
    std::vector<std::vector<float>> out;
    for (size_t pos = 0; pos < tokens.size(); pos++) {
        const float *l = bf::llm::forward(m, s, tokens[pos], int(pos));
        EXPECT_NE(l, nullptr);
        if (!l) break;
        out.emplace_back(l, l + m.config.vocab_size);
    }
    return out;
}

const std::vector<int> kTokens = {1, 368, 430, 429, 302, 450, 437, 434, 409, 281, 17, 260, 3, 511};

}  // namespace

TEST(Model, LoadsTheReferenceCheckpoint) {
    LLM_REQUIRE_FILE(kModel);
    Image im = read_image(kModel);
    Model m;
    std::string err;
    ASSERT_TRUE(bf::llm::load_model(im.data(), im.size, m, err)) << err;
    EXPECT_EQ(m.config.dim, 64);
    EXPECT_EQ(m.config.hidden_dim, 172);
    EXPECT_EQ(m.config.n_layers, 4);
    EXPECT_EQ(m.config.n_heads, 4);
    EXPECT_EQ(m.config.n_kv_heads, 4);
    EXPECT_EQ(m.config.vocab_size, 512);
    EXPECT_EQ(m.config.seq_len, 128);
    EXPECT_TRUE(m.config.shared_classifier);
    EXPECT_EQ(m.config.head_size, 16);
    EXPECT_EQ(m.bytes_needed, 932124u);
    EXPECT_EQ(m.weights.wcls.data, m.weights.token_embedding.data);
    // In place, no copy: the first weight follows the header.
    EXPECT_EQ(static_cast<const void *>(m.weights.token_embedding.data),
              static_cast<const void *>(im.bytes() + 28));
}

TEST(Model, Truncated) {
    LLM_REQUIRE_FILE(kModel);
    Image im = read_image(kModel);
    EXPECT_NE(load_err(im, 1000).find("model: file is 1000 bytes but the weights need 932124 (truncated?)"), std::string::npos);
    const std::string e = load_err(im, im.size - 4);
    EXPECT_NE(e.find("file is 932120 bytes but the weights need 932124"), std::string::npos) << e;
    EXPECT_NE(e.find("freq_cis_imag"), std::string::npos) << e;
    EXPECT_NE(load_err(im, 10).find("shorter than the 28-byte header"), std::string::npos);
    EXPECT_NE(load_err(im, 0).find("shorter than the 28-byte header"), std::string::npos);
    Model m;
    std::string err;
    EXPECT_FALSE(bf::llm::load_model(nullptr, 100, m, err));
    EXPECT_FALSE(bf::llm::load_model(im.bytes() + 1, 1000, m, err));
    EXPECT_NE(err.find("not 4-byte aligned"), std::string::npos) << err;
}

TEST(Model, BadHeaders) {
    LLM_REQUIRE_FILE(kModel);
    const HeaderCase cases[] = {
        {"negative dim", 0, -64, "model: dim is -64 (must be > 0)"},
        {"huge dim", 0, INT_MAX, "dim is 2147483647, absurdly large"},
        {"zero hidden_dim", 1, 0, "hidden_dim is 0"},
        {"negative n_layers", 2, -1, "n_layers is -1"},
        {"zero n_heads", 3, 0, "n_heads is 0"},
        {"heads not dividing dim", 3, 3, "dim 64 is not a multiple of n_heads 3"},
        {"odd head size", 3, 64, "head_size (dim 64 / n_heads 64) is 1, odd"},
        {"zero n_kv_heads", 4, 0, "n_kv_heads is 0"},
        {"n_kv_heads > n_heads", 4, 8, "n_kv_heads 8 exceeds n_heads 4"},
        {"kv heads not dividing heads", 4, 3, "n_heads 4 is not a multiple of n_kv_heads 3"},
        {"zero vocab", 5, 0, "vocab_size is 0"},
        {"INT_MIN vocab", 5, INT_MIN, "vocab_size is -2147483648"},
        {"huge vocab", 5, 1 << 30, "vocab_size is 1073741824, absurdly large"},
        {"separate classifier missing", 5, -512, "tensor wcls runs past the end"},
        {"zero seq_len", 6, 0, "seq_len is 0"},
        {"huge seq_len", 6, INT_MAX, "seq_len is 2147483647, absurdly large"},
        {"large seq_len", 6, 1 << 22, "weights need"},
        {"magic ak42", 0, 0x616b3432, "magic 'ak42'"},
    };
    for (const HeaderCase &c : cases) {
        SCOPED_TRACE(c.what);
        Image im = read_image(kModel);
        im.set_header(c.field, c.value);
        const std::string e = load_err(im, im.size);
        EXPECT_NE(e.find(c.message), std::string::npos) << e;
    }
    {
        Image im = read_image(kModel);
        im.set_header(6, 1 << 22);
        EXPECT_NE(load_err(im, im.size).find("tensor freq_cis_real"), std::string::npos);
    }
    // Each field within its ceiling, the product not: a tensor over 2^40 values.
    Image im = read_image(kModel);
    im.set_header(0, 1 << 20);
    im.set_header(1, 1 << 22);
    im.set_header(2, 1 << 12);
    const std::string e = load_err(im, im.size);
    EXPECT_NE(e.find("tensor wq (n_layers x dim x dim) is absurdly large"), std::string::npos) << e;
}

// A separate classifier (negative vocab_size) is read after freq_cis and used for the logits.
TEST(Model, SeparateClassifier) {
    LLM_REQUIRE_FILE(kModel);
    Image im = read_image(kModel);
    Model shared;
    std::string err;
    ASSERT_TRUE(bf::llm::load_model(im.data(), im.size, shared, err)) << err;
    const Tensors t = split(shared);
    std::vector<float> wcls(t.emb);
    for (float &x : wcls) x *= 2.0f;
    auto tensors = in_order(t);
    tensors.push_back(wcls);
    int32_t h[7] = {64, 172, 4, 4, 4, -512, 128};
    Image sep = make_image(h, tensors);
    Model m;
    ASSERT_TRUE(bf::llm::load_model(sep.data(), sep.size, m, err)) << err;
    EXPECT_FALSE(m.config.shared_classifier);
    EXPECT_EQ(m.config.vocab_size, 512);
    EXPECT_EQ(m.bytes_needed, 932124u + 512 * 64 * 4);
    EXPECT_NE(m.weights.wcls.data, m.weights.token_embedding.data);
    EXPECT_NE(load_err(sep, sep.size - 4).find("tensor wcls runs past the end"), std::string::npos);

    const auto a = run(shared, kTokens), b = run(m, kTokens);
    ASSERT_EQ(a.size(), b.size());
    for (size_t p = 0; p < a.size(); p++)
        for (size_t i = 0; i < a[p].size(); i++)
            ASSERT_NEAR(b[p][i], 2.0f * a[p][i], 1e-6 * fmax(1.0, fabs(a[p][i])))
                << "pos " << p << " logit " << i;
}

// Grouped-query attention: a model whose key/value heads come in identical pairs computes exactly
// what the same model with n_kv_heads = n_heads / 2 computes.
TEST(Model, GroupedQueryAttention) {
    LLM_REQUIRE_FILE(kModel);
    Image im = read_image(kModel);
    Model orig;
    std::string err;
    ASSERT_TRUE(bf::llm::load_model(im.data(), im.size, orig, err)) << err;
    const size_t L = 4, D = 64, HS = 16;
    Tensors dup = split(orig), gqa = split(orig);
    gqa.wk.clear();
    gqa.wv.clear();
    for (size_t l = 0; l < L; l++)
        for (size_t head = 0; head < 4; head += 2)  // kv heads 0 and 2 serve query heads 0-1, 2-3
            for (size_t r = 0; r < HS; r++) {
                const size_t src = (l * D + head * HS + r) * D, dst = (l * D + (head + 1) * HS + r) * D;
                for (size_t j = 0; j < D; j++) {
                    dup.wk[dst + j] = dup.wk[src + j];
                    dup.wv[dst + j] = dup.wv[src + j];
                }
                gqa.wk.insert(gqa.wk.end(), dup.wk.begin() + src, dup.wk.begin() + src + D);
                gqa.wv.insert(gqa.wv.end(), dup.wv.begin() + src, dup.wv.begin() + src + D);
            }
    int32_t hd[7] = {64, 172, 4, 4, 4, 512, 128}, hg[7] = {64, 172, 4, 4, 2, 512, 128};
    Image dup_im = make_image(hd, in_order(dup)), gqa_im = make_image(hg, in_order(gqa));
    Model md, mg;
    ASSERT_TRUE(bf::llm::load_model(dup_im.data(), dup_im.size, md, err)) << err;
    ASSERT_TRUE(bf::llm::load_model(gqa_im.data(), gqa_im.size, mg, err)) << err;
    EXPECT_EQ(mg.config.kv_dim, 32);
    EXPECT_EQ(mg.bytes_needed, 932124u - 2 * L * 32 * D * 4);
    const auto a = run(md, kTokens), b = run(mg, kTokens), o = run(orig, kTokens);
    ASSERT_EQ(a.size(), kTokens.size());
    ASSERT_EQ(b.size(), kTokens.size());
    for (size_t p = 0; p < a.size(); p++) EXPECT_EQ(a[p], b[p]) << "pos " << p;
    EXPECT_NE(a.back(), o.back());  // the pairing did change the model
}

TEST(Model, ForwardGuards) {
    LLM_REQUIRE_FILE(kModel);
    Image im = read_image(kModel);
    Model m;
    std::string err;
    ASSERT_TRUE(bf::llm::load_model(im.data(), im.size, m, err)) << err;
    bf::llm::RunState s;
    EXPECT_EQ(bf::llm::forward(m, s, 1, 0), nullptr);  // not initialized
    EXPECT_FALSE(s.init(m.config, err, 1000));
    EXPECT_NE(err.find("run state:"), std::string::npos) << err;
    ASSERT_TRUE(s.init(m.config, err)) << err;
    EXPECT_EQ(reinterpret_cast<uintptr_t>(s.key_cache) % 64, 0u);
    EXPECT_EQ(bf::llm::forward(m, s, -1, 0), nullptr);
    EXPECT_EQ(bf::llm::forward(m, s, 512, 0), nullptr);
    EXPECT_EQ(bf::llm::forward(m, s, 1, -1), nullptr);
    EXPECT_EQ(bf::llm::forward(m, s, 1, 128), nullptr);
    EXPECT_NE(bf::llm::forward(m, s, 511, 127), nullptr);
    bf::llm::Config other = m.config;
    other.seq_len = 64;
    ASSERT_TRUE(s.init(other, err)) << err;
    EXPECT_EQ(bf::llm::forward(m, s, 1, 0), nullptr);  // sized for another shape
}

// ---- the file loader (llm/loader.h) and bf::vfs::read_all under it ----

namespace {

std::string write_temp(const char *name, const std::string &bytes) {
    const std::string p = testing::TempDir() + name;
    FILE *f = fopen(p.c_str(), "wb");
    fwrite(bytes.data(), 1, bytes.size(), f);
    fclose(f);
    return p;
}

}  // namespace

TEST(Loader, CorruptGgufIsRefusedByTheGgufReader) {
    const std::string p = write_temp("model.gguf", std::string("GGUF\3\0\0\0", 8) + std::string(100, 'x'));
    bf::llm::LoadedModel m;
    std::string err;
    EXPECT_FALSE(bf::llm::load(p, "/nonexistent/tok.bin", m, err));
    EXPECT_EQ(err.rfind("gguf: ", 0), 0u) << err;
    EXPECT_TRUE(m.model_path.empty());  // untouched on failure
}

TEST(Loader, FileErrorsNameThePath) {
    bf::llm::LoadedModel m;
    std::string err;
    EXPECT_FALSE(bf::llm::load("/nonexistent/m.bin", "/nonexistent/t.bin", m, err));
    EXPECT_EQ(err, "cannot open /nonexistent/m.bin: No such file or directory");
    const std::string dir = testing::TempDir();
    EXPECT_FALSE(bf::llm::load_model_file(dir, m, err));
    EXPECT_EQ(err, dir + " is a directory");
}

TEST(Loader, LoadsTheSharedModel) {
    const std::string tok = shared_path("models/tok512.bin");
    LLM_REQUIRE_FILE(kModel);
    LLM_REQUIRE_FILE(tok);
    bf::llm::LoadedModel m;
    std::string err;
    ASSERT_TRUE(bf::llm::load(kModel, tok, m, err)) << err;
    EXPECT_STREQ(m.format, "llama2.c");
    EXPECT_EQ(m.model.config.dim, 64);
    EXPECT_EQ(m.tok.vocab_size, 512);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(m.file.data()) % 64, 0u);
    bf::llm::LoadedModel moved = std::move(m);  // the weights stay where they point
    EXPECT_EQ(moved.model.weights.token_embedding.data,
              static_cast<const void *>(moved.file.data() + 28));
    // A wrong tokenizer: the tokenizer's own error, nothing loaded.
    bf::llm::LoadedModel bad;
    EXPECT_FALSE(bf::llm::load(kModel, kModel, bad, err));
    EXPECT_EQ(err.rfind("tokenizer:", 0), 0u) << err;
}

TEST(ReadAll, CapAndEmptyFile) {
    const std::string p = write_temp("ten.bin", "0123456789");
    bf::vfs::Bytes b;
    std::string err;
    EXPECT_FALSE(bf::vfs::read_all(p.c_str(), 9, b, err));
    EXPECT_EQ(err, p + " is 10 bytes, above the limit of 9");
    ASSERT_TRUE(bf::vfs::read_all(p.c_str(), 10, b, err)) << err;
    EXPECT_EQ(std::string(reinterpret_cast<const char *>(b.data()), b.size()), "0123456789");
    const std::string e = write_temp("empty.bin", "");
    ASSERT_TRUE(bf::vfs::read_all(e.c_str(), 10, b, err)) << err;
    EXPECT_EQ(b.size(), 0u);
}

// GGUF through the one loader: weights stay in their stored type; types forward() cannot
// multiply yet are refused by name.
TEST(Loader, GgufKeepsWeightsInTheirType) {
    const std::string model = shared_path("gguf/quant/syn3M-q8_0.gguf");
    LLM_REQUIRE_FILE(model);
    bf::llm::LoadedModel m;
    std::string err;
    ASSERT_TRUE(bf::llm::load(model, shared_path("models/tok512.bin"), m, err)) << err;
    const auto &c = m.model.config;
    EXPECT_EQ(c.dim, 256);
    EXPECT_EQ(c.hidden_dim, 768);
    EXPECT_EQ(c.n_layers, 4);
    EXPECT_EQ(c.n_heads, 8);
    EXPECT_EQ(c.n_kv_heads, 4);
    EXPECT_TRUE(c.kv_f16);
    EXPECT_STREQ(m.format, "GGUF");
    EXPECT_EQ(m.model.weights.layers[0].wq.type, 8u);  // Q8_0
    EXPECT_EQ(m.model.weights.layers[0].wq.data, m.gguf.find_tensor("blk.0.attn_q.weight")->data);  // in place
    bf::llm::RunState s;
    ASSERT_TRUE(s.init(c, err)) << err;
    for (int pos = 0; pos < 4; pos++) {
        const float *logits = bf::llm::forward(m.model, s, 1 + pos, pos);
        ASSERT_NE(logits, nullptr);
        for (int i = 0; i < c.vocab_size; i++) ASSERT_TRUE(std::isfinite(logits[i])) << i;
    }
}

// Every weight type the GGUF reader accepts now has a matmul: the loader's refusal ("generation
// with this weight type is not implemented yet") is there for types added to the reader later.
// A type the reader does not know (iq4_xs) never gets that far: it is refused by name.
TEST(Loader, GgufEveryAcceptedWeightTypeIsMultiplied) {
    for (uint32_t type = 0; type < 64; type++)
        if (bf::llm::gguf::type_traits(type)) EXPECT_TRUE(bf::llm::matmul_supported(type)) << type;
    EXPECT_FALSE(bf::llm::matmul_supported(23));  // iq4_xs
    EXPECT_EQ(bf::llm::gguf::type_traits(23), nullptr);
}

// Each syn3M-<type>.gguf loads with its weights in place and runs 8 positions to finite logits.
TEST(Loader, GgufEveryWeightTypeRuns) {
    const std::string tok = shared_path("models/tok512.bin");
    const struct { const char *file; uint32_t type; } cases[] = {
        {"q4_1", 3}, {"q5_1", 7}, {"q2_K", 10}, {"q3_K_S", 11}, {"q4_K_S", 12}, {"q5_K_S", 13}, {"q6_K", 14}, {"bf16", 30},
    };
    for (const auto &c : cases) {
        SCOPED_TRACE(c.file);
        const std::string model = shared_path((std::string("gguf/quant/syn3M-") + c.file + ".gguf").c_str());
        LLM_REQUIRE_FILE(model);
        bf::llm::LoadedModel m;
        std::string err;
        ASSERT_TRUE(bf::llm::load(model, tok, m, err)) << err;
        EXPECT_EQ(m.model.weights.layers[0].w1.type, c.type);
        EXPECT_EQ(m.model.weights.layers[3].wo.type, c.type);
        bf::llm::RunState s;
        ASSERT_TRUE(s.init(m.model.config, err)) << err;
        float spread = 0;
        for (int pos = 0; pos < 8; pos++) {
            const float *logits = bf::llm::forward(m.model, s, 1 + 37 * pos % 500, pos);
            ASSERT_NE(logits, nullptr);
            float lo = logits[0], hi = logits[0];
            for (int i = 0; i < m.model.config.vocab_size; i++) {
                ASSERT_TRUE(std::isfinite(logits[i])) << pos << " " << i;
                lo = fminf(lo, logits[i]), hi = fmaxf(hi, logits[i]);
            }
            spread = fmaxf(spread, hi - lo);
        }
        EXPECT_GT(spread, 0.0f);  // not all equal (e.g. all zero)
    }
}

// ctx and kv (BAREFLOW.CFG): a shorter KV cache, and an fp32 cache for a GGUF model, which then
// takes the batched prompt path and still prints llama.cpp's text for the f32 file.
TEST(Loader, ContextAndKvTypeOptions) {
    const std::string model = shared_path("gguf/aidreams260K-f32.gguf");
    const std::string ref = shared_path("reference/gguf/aidreams260K-f32.greedy.the_robot.txt");
    LLM_REQUIRE_FILE(model);
    LLM_REQUIRE_FILE(ref);
    bf::llm::LoadedModel m;
    std::string err;
    bf::llm::LoadOptions opt;
    opt.ctx = 64;
    ASSERT_TRUE(bf::llm::load(model, "", m, err, opt)) << err;
    EXPECT_EQ(m.model.config.seq_len, 64);
    EXPECT_TRUE(m.model.config.kv_f16);
    opt.ctx = 0;
    opt.kv_f16 = 0;
    ASSERT_TRUE(bf::llm::load(model, "-", m, err, opt)) << err;
    EXPECT_EQ(m.model.config.seq_len, 128);
    EXPECT_FALSE(m.model.config.kv_f16);
    EXPECT_TRUE(m.note.empty()) << m.note;
    bf::llm::Sampler sampler(m.model.config.vocab_size, 0.0f, 0.9f, 1);
    std::string text;
    ASSERT_TRUE(bf::llm::generate(m.model, m.codec(), sampler, "The robot", 128, text, err)) << err;
    EXPECT_EQ(text + "\n", read_text(ref));
}

namespace {

namespace G = bf::llm::gguf;

// A GGUF rewritten from another: every key copied (renamed by `rename`), every tensor copied
// (rows permuted by `row_of` where it says so), plus extra F32 tensors. For tests that derive a
// model of another layout from the shared llama one.
struct Rewrite {
    std::string (*rename)(const std::string &key) = nullptr;
    bool (*permute)(std::string_view name) = nullptr;  // rows of these tensors go through row_of
    int64_t head_size = 0;                              // for row_of
    std::vector<std::pair<std::string, std::vector<float>>> extra;
};

// Within a head of hs rows, llama's interleaved row 2i+j is NEOX's row j*hs/2+i.
int64_t neox_row(int64_t r, int64_t hs) { return r / hs * hs + (r % hs) % 2 * (hs / 2) + (r % hs) / 2; }

std::string rewrite(const G::File &src, const Rewrite &rw, std::string &err) {
    G::Writer w;
    for (size_t i = 0; i < src.n_keys(); i++) {
        const G::KeyValue &kv = src.key(i);
        const std::string key = rw.rename ? rw.rename(std::string(kv.key)) : std::string(kv.key);
        uint32_t u;
        float f;
        std::string_view sv;
        G::Array a;
        if (src.get_u32(kv.key, u)) {
            w.add_u32(key, u);
        } else if (src.get_f32(kv.key, f)) {
            w.add_f32(key, f);
        } else if (src.get_string(kv.key, sv)) {
            w.add_string(key, key == "general.architecture" && rw.rename ? rw.rename("") : std::string(sv));
        } else if (src.get_array(kv.key, a) && a.elem_type == G::ValueType::String) {
            std::vector<std::string> v;
            G::StringCursor c = a.strings();
            while (c.next(sv)) v.emplace_back(sv);
            w.add_strings(key, v);
        } else if (a.elem_type == G::ValueType::F32) {
            std::vector<float> v(a.count);
            for (uint64_t j = 0; j < a.count; j++) a.get_f32(j, v[j]);
            w.add_f32s(key, v.data(), v.size());
        } else {
            std::vector<int32_t> v(a.count);
            for (uint64_t j = 0; j < a.count; j++) a.get_i32(j, v[j]);
            w.add_i32s(key, v.data(), v.size());
        }
    }
    std::vector<int> idx;
    for (size_t i = 0; i < src.n_tensors(); i++) {
        const G::Tensor &t = src.tensor(i);
        idx.push_back(w.add_tensor(t.name, t.type, t.n_dims, t.ne, err));
        if (idx.back() < 0) return "";
    }
    for (const auto &[name, values] : rw.extra) {
        const int64_t ne[1] = {int64_t(values.size())};
        idx.push_back(w.add_tensor(name, G::kF32, 1, ne, err));
        if (idx.back() < 0) return "";
    }
    std::vector<uint8_t> img;
    if (!w.image(img, err)) return "";
    for (size_t i = 0; i < src.n_tensors(); i++) {
        const G::Tensor &t = src.tensor(i);
        uint8_t *dst = w.tensor_data(img, size_t(idx[i]));
        if (!rw.permute || !rw.permute(t.name)) {
            std::memcpy(dst, t.data, size_t(t.size));
            continue;
        }
        for (int64_t r = 0; r < t.ne[1]; r++)
            std::memcpy(dst + size_t(neox_row(r, rw.head_size)) * t.row_bytes, t.data + size_t(r) * t.row_bytes, t.row_bytes);
    }
    for (size_t e = 0; e < rw.extra.size(); e++)
        std::memcpy(w.tensor_data(img, size_t(idx[src.n_tensors() + e])), rw.extra[e].second.data(),
                    rw.extra[e].second.size() * sizeof(float));
    return std::string(img.begin(), img.end());
}

// The shared llama model the rewrite tests start from, parsed (the file's bytes kept alive).
constexpr const char *kAidreamsF32 = "gguf/aidreams260K-f32.gguf";
struct ParsedFile {
    std::string bytes;
    G::File file;
};
bool parse_file(const std::string &path, ParsedFile &out, std::string &err) {
    out.bytes = read_text(path);
    return out.file.parse(reinterpret_cast<const uint8_t *>(out.bytes.data()), out.bytes.size(), err);
}

std::string greedy(const std::string &path, std::string &err) {
    bf::llm::LoadedModel m;
    if (!bf::llm::load(path, "", m, err)) return "load failed: " + err;
    bf::llm::Sampler sampler(m.model.config.vocab_size, 0.0f, 0.9f, 1);
    std::string text;
    if (!bf::llm::generate(m.model, m.codec(), sampler, "The robot", 128, text, err)) return "generate failed: " + err;
    return text + "\n";
}

}  // namespace

// qwen2 = llama's layer + Q/K/V biases + the NEOX RoPE pairing. llama's GGUF converter permutes
// each head's Q/K rows so that pairs (2i, 2i+1) rotate together; undoing that permutation and
// declaring the model qwen2, with zero biases, gives the same function: the aidreams260K f32
// model rewritten that way must print llama.cpp's text.
TEST(Loader, Qwen2IsLlamaWithNeoxRopeAndBiases) {
    const std::string ref = shared_path("reference/gguf/aidreams260K-f32.greedy.the_robot.txt");
    LLM_REQUIRE_FILE(shared_path(kAidreamsF32));
    LLM_REQUIRE_FILE(ref);
    ParsedFile parsed;
    std::string err;
    ASSERT_TRUE(parse_file(shared_path(kAidreamsF32), parsed, err)) << err;
    const G::File &src = parsed.file;
    const int64_t dim = src.find_tensor("blk.0.attn_q.weight")->ne[1], kv_dim = src.find_tensor("blk.0.attn_k.weight")->ne[1];
    uint32_t n_head = 0, n_layer = 0;
    ASSERT_TRUE(src.get_u32("llama.attention.head_count", n_head));
    ASSERT_TRUE(src.get_u32("llama.block_count", n_layer));
    Rewrite rw;
    rw.rename = [](const std::string &k) { return k.empty() ? std::string("qwen2") : k.rfind("llama.", 0) == 0 ? "qwen2." + k.substr(6) : k; };
    rw.permute = [](std::string_view n) { return n.find("attn_q.weight") != n.npos || n.find("attn_k.weight") != n.npos; };
    rw.head_size = dim / n_head;
    for (uint32_t l = 0; l < n_layer; l++)
        for (const char *b : {"q", "k", "v"})  // zero biases
            rw.extra.push_back({"blk." + std::to_string(l) + ".attn_" + b + ".bias", std::vector<float>(size_t(*b == 'q' ? dim : kv_dim))});
    const std::string img = rewrite(src, rw, err);
    ASSERT_FALSE(img.empty()) << err;
    const std::string path = write_temp("qwen2.gguf", img);
    bf::llm::LoadedModel m;
    ASSERT_TRUE(bf::llm::load(path, "", m, err)) << err;
    EXPECT_TRUE(m.model.config.rope_neox);
    EXPECT_NE(m.model.weights.layers[0].bq, nullptr);
    EXPECT_EQ(greedy(path, err), read_text(ref));
}

// Llama 3.1's RoPE frequency factors (rope_freqs.weight): factors of 1 change nothing (the same
// text as llama.cpp's), factors of 2 change the output, a non-positive factor is refused by name.
TEST(Loader, RopeFrequencyFactors) {
    const std::string ref = shared_path("reference/gguf/aidreams260K-f32.greedy.the_robot.txt");
    LLM_REQUIRE_FILE(shared_path(kAidreamsF32));
    LLM_REQUIRE_FILE(ref);
    ParsedFile parsed;
    std::string err;
    ASSERT_TRUE(parse_file(shared_path(kAidreamsF32), parsed, err)) << err;
    const G::File &src = parsed.file;
    uint32_t n_head = 0;
    ASSERT_TRUE(src.get_u32("llama.attention.head_count", n_head));
    const size_t pairs = size_t(src.find_tensor("blk.0.attn_q.weight")->ne[1] / n_head / 2);
    for (float factor : {1.0f, 2.0f, -1.0f}) {
        Rewrite rw;
        rw.extra.push_back({"rope_freqs.weight", std::vector<float>(pairs, factor)});
        const std::string path = write_temp("freqs.gguf", rewrite(src, rw, err));
        const std::string got = greedy(path, err);
        if (factor == 1.0f) EXPECT_EQ(got, read_text(ref));
        if (factor == 2.0f) EXPECT_TRUE(got != read_text(ref) && got.rfind("load failed", 0) != 0) << got;
        if (factor < 0) EXPECT_NE(got.find("rope_freqs.weight[0] is -1 (must be a positive factor)"), std::string::npos) << got;
    }
}
