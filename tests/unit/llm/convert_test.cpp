// The converter and its parts against llama.cpp's own files: the weight quantizers requantize
// syn3M-f32.gguf into exactly llama-quantize's Q8_0/Q4_0 bytes; the llama2.c -> GGUF conversion of
// aidreams260K matches llama.cpp's converter tensor by tensor and key by key, and its f32, q8_0 and
// q4_0 files load and generate (f32: llama.cpp's greedy text).
#include <gtest/gtest.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "jit/kernels/quant.h"
#include "llm/convert.h"
#include "llm/gguf.h"
#include "llm/gguf_write.h"
#include "llm/model.h"
#include "llm/model_gguf.h"
#include "llm/tokenizer.h"
#include "llm/vocab.h"
#include "test_util.h"

namespace gguf = bf::llm::gguf;
namespace q = bf::kern::quant;
using llmtest::shared_path;

namespace {

std::vector<uint8_t> read_bytes(const std::string &p) {
    const std::string s = llmtest::read_text(p);
    return std::vector<uint8_t>(s.begin(), s.end());
}

struct Parsed {
    std::vector<uint8_t> bytes;
    gguf::File f;
    bool open(const std::string &path) {
        bytes = read_bytes(path);
        std::string err;
        const bool ok = f.parse(bytes.data(), bytes.size(), err);
        EXPECT_TRUE(ok) << path << ": " << err;
        return ok;
    }
};

// Every tensor of `type` in syn3M-<name>.gguf, requantized from syn3M-f32.gguf row by row.
void requantize_syn3m(const char *name, uint32_t type, int expect_tensors) {
    const std::string qpath = shared_path((std::string("gguf/quant/syn3M-") + name + ".gguf").c_str());
    LLM_REQUIRE_FILE(qpath);
    Parsed f32, ref;
    ASSERT_TRUE(f32.open(shared_path("gguf/quant/syn3M-f32.gguf")));
    ASSERT_TRUE(ref.open(qpath));
    int compared = 0, f32_kept = 0;
    for (size_t i = 0; i < ref.f.n_tensors(); i++) {
        const gguf::Tensor &t = ref.f.tensor(i);
        const gguf::Tensor *src = f32.f.find_tensor(t.name);
        ASSERT_NE(src, nullptr) << t.name;
        ASSERT_EQ(src->type, uint32_t(gguf::kF32));
        if (t.type != type) {  // --pure leaves the norms (1-D) in F32
            EXPECT_EQ(t.type, uint32_t(gguf::kF32)) << t.name;
            EXPECT_EQ(t.n_dims, 1u) << t.name;
            f32_kept++;
            continue;
        }
        std::vector<uint8_t> out(t.size);
        std::vector<float> row(size_t(t.ne[0]));
        for (int64_t r = 0; r < t.n_rows(); r++) {
            memcpy(row.data(), src->data + r * src->row_bytes, src->row_bytes);
            ASSERT_TRUE(q::quantize_row_weights(type, row.data(), out.data() + r * t.row_bytes, t.ne[0]));
        }
        EXPECT_EQ(memcmp(out.data(), t.data, t.size), 0) << t.name << " differs from llama-quantize's " << name;
        compared++;
    }
    EXPECT_EQ(compared, expect_tensors);
    EXPECT_EQ(f32_kept, 9);  // 4 layers x 2 norms + output_norm
}

TEST(QuantWeights, Q8_0MatchesLlamaQuantize) { requantize_syn3m("q8_0", q::Q8_0, 30); }
TEST(QuantWeights, Q4_0MatchesLlamaQuantize) { requantize_syn3m("q4_0", q::Q4_0, 30); }
TEST(QuantWeights, Q5_0MatchesLlamaQuantize) { requantize_syn3m("q5_0", q::Q5_0, 30); }
TEST(QuantWeights, Q4_KMatchesLlamaQuantize) { requantize_syn3m("q4_K_S", q::Q4_K, 30); }

// The cases the random weights of syn3M may not hit: ties (roundf: away from zero), a block whose
// largest magnitude is negative (Q4_0's d < 0), an all-zero block.
TEST(QuantWeights, EdgeCases) {
    float x[32] = {};
    q::block_q8_0 b8;
    q::quantize_row_q8_0_weights(x, &b8, 32);
    EXPECT_EQ(b8.d, 0);
    for (int8_t v : b8.qs) EXPECT_EQ(v, 0);
    x[0] = 127.0f;
    x[1] = 2.5f;   // exactly 2.5 after scaling by 1: roundf gives 3 (round-to-even would give 2)
    x[2] = -2.5f;
    q::quantize_row_q8_0_weights(x, &b8, 32);
    EXPECT_EQ(b8.qs[0], 127);
    EXPECT_EQ(b8.qs[1], 3);
    EXPECT_EQ(b8.qs[2], -3);
    float y[32] = {};
    y[0] = -8.0f;  // the largest magnitude, negative: d = -8 / -8 = 1, nibble = trunc(v + 8.5)
    y[1] = 8.0f;
    y[16] = 1.0f;
    q::block_q4_0 b4;
    q::quantize_row_q4_0_weights(y, &b4, 32);
    EXPECT_EQ(q::fp16_to_fp32(b4.d), 1.0f);
    EXPECT_EQ(b4.qs[0] & 15, 0);   // -8 + 8.5 = 0.5 -> 0
    EXPECT_EQ(b4.qs[1] & 15, 15);  // 8 + 8.5 = 16.5 -> 16, clamped to 15
    EXPECT_EQ(b4.qs[0] >> 4, 9);   // value 16: 1 + 8.5 = 9.5 -> 9
    EXPECT_EQ(b4.qs[2], 8 | 8 << 4);  // zeros
    EXPECT_FALSE(q::quantize_row_weights(q::Q8_0, y, &b8, 31));
    EXPECT_FALSE(q::quantize_row_weights(q::Q4_K, y, &b8, 255));  // not a multiple of 256
    EXPECT_FALSE(q::quantize_row_weights(q::Q6_K, y, &b8, 256));  // not a weight type here
}

// Writer -> reader round trip over every value kind the writer has and a padded tensor layout.
TEST(GgufWrite, RoundTrip) {
    gguf::Writer w;
    w.add_u32("a.u32", 7);
    w.add_i32("a.i32", -3);
    w.add_f32("a.f32", 1.5f);
    w.add_bool("a.bool", true);
    w.add_string("a.str", "hello");
    w.add_strings("a.strs", {"x", "", "yz"});
    const float fs[2] = {0.25f, -1.0f};
    const int32_t is[3] = {1, 2, 3};
    w.add_f32s("a.f32s", fs, 2);
    w.add_i32s("a.i32s", is, 3);
    std::string err;
    const int64_t ne1[1] = {3}, ne2[2] = {32, 2}, bad[2] = {31, 2};
    EXPECT_EQ(w.add_tensor("v", q::F32, 1, ne1, err), 0);
    EXPECT_EQ(w.add_tensor("m", q::Q8_0, 2, ne2, err), 1);
    EXPECT_EQ(w.add_tensor("bad", q::Q8_0, 2, bad, err), -1);
    EXPECT_NE(err.find("not a multiple"), std::string::npos) << err;
    std::vector<uint8_t> img;
    ASSERT_TRUE(w.image(img, err)) << err;
    memset(w.tensor_data(img, 1), 0xAB, w.tensor_bytes(1));
    gguf::File f;
    ASSERT_TRUE(f.parse(img.data(), img.size(), err)) << err;
    uint32_t u = 0;
    int32_t i = 0;
    float x = 0;
    bool b = false;
    std::string_view s;
    gguf::Array a;
    EXPECT_TRUE(f.get_u32("a.u32", u) && u == 7);
    EXPECT_TRUE(f.get_i32("a.i32", i) && i == -3);
    EXPECT_TRUE(f.get_f32("a.f32", x) && x == 1.5f);
    EXPECT_TRUE(f.get_bool("a.bool", b) && b);
    EXPECT_TRUE(f.get_string("a.str", s) && s == "hello");
    ASSERT_TRUE(f.get_array("a.strs", a));
    EXPECT_TRUE(a.count == 3 && a.get_string(2, s) && s == "yz");
    ASSERT_TRUE(f.get_array("a.i32s", a));
    EXPECT_TRUE(a.get_i32(2, i) && i == 3);
    ASSERT_TRUE(f.get_array("a.f32s", a));
    EXPECT_TRUE(a.get_f32(1, x) && x == -1.0f);
    ASSERT_EQ(f.n_tensors(), 2u);
    EXPECT_EQ(f.tensor(0).offset % 32, 0u);
    EXPECT_EQ(f.tensor(1).offset % 32, 0u);
    EXPECT_EQ(f.tensor(1).size, 68u);
    EXPECT_EQ(f.tensor(1).data[67], 0xAB);
}

// aidreams260K.bin + tok512.bin converted in memory.
struct Converted {
    llmtest::Image model_img;
    bf::llm::Model model;
    bf::llm::Tokenizer tok;
    std::vector<uint8_t> bytes;
    gguf::File f;
    bf::llm::ConvertReport report;
    bool make(uint32_t type) {
        std::string err;
        model_img = llmtest::read_image(shared_path("models/aidreams260K.bin"));
        const std::string t = llmtest::read_text(shared_path("models/tok512.bin"));
        if (!bf::llm::load_model(model_img.data(), model_img.size, model, err) ||
            !bf::llm::load_tokenizer(t.data(), t.size(), model.config.vocab_size, tok, err) ||
            !bf::llm::convert_to_gguf(model, tok, type, bytes, err, &report) ||
            !f.parse(bytes.data(), bytes.size(), err)) {
            ADD_FAILURE() << err;
            return false;
        }
        return true;
    }
};

bool same_value(const gguf::Value &a, const gguf::Value &b) {
    return a.type == b.type && a.elem_type == b.elem_type && a.count == b.count && a.size == b.size &&
           !memcmp(a.raw, b.raw, a.size);
}

TEST(Convert, F32MatchesLlamaCppConverter) {
    const std::string ref_path = shared_path("gguf/aidreams260K-f32.gguf");
    LLM_REQUIRE_FILE(ref_path);
    Parsed ref;
    ASSERT_TRUE(ref.open(ref_path));
    Converted c;
    ASSERT_TRUE(c.make(q::F32));
    // Tensors: the same names, types, shapes and bytes, in the same order. llama.cpp's converter
    // also writes the shared classifier as output.weight, a copy of token_embd.weight; this
    // converter leaves it out (the reader ties it), so check that it is that copy.
    const gguf::Tensor *emb = ref.f.find_tensor("token_embd.weight"), *out = ref.f.find_tensor("output.weight");
    ASSERT_TRUE(emb && out);
    ASSERT_EQ(emb->size, out->size);
    EXPECT_EQ(memcmp(emb->data, out->data, emb->size), 0);
    EXPECT_EQ(c.f.find_tensor("output.weight"), nullptr);
    ASSERT_EQ(c.f.n_tensors() + 1, ref.f.n_tensors());
    size_t j = 0;
    for (size_t i = 0; i < ref.f.n_tensors(); i++) {
        const gguf::Tensor &r = ref.f.tensor(i);
        if (r.name == "output.weight") continue;
        const gguf::Tensor &t = c.f.tensor(j++);
        EXPECT_EQ(t.name, r.name);
        EXPECT_EQ(t.type, r.type) << r.name;
        EXPECT_EQ(t.n_dims, r.n_dims) << r.name;
        EXPECT_TRUE(t.ne[0] == r.ne[0] && t.ne[1] == r.ne[1]) << r.name;
        ASSERT_EQ(t.size, r.size) << r.name;
        EXPECT_EQ(memcmp(t.data, r.data, r.size), 0) << r.name << " differs";
    }
    // Metadata: every key of the reference, value for value (type, element type, bytes).
    for (size_t i = 0; i < ref.f.n_keys(); i++) {
        const gguf::KeyValue &kv = ref.f.key(i);
        const gguf::KeyValue *mine = c.f.find(kv.key);
        ASSERT_NE(mine, nullptr) << kv.key;
        EXPECT_TRUE(same_value(mine->value, kv.value)) << kv.key << " differs";
    }
    // Only these are added; each says what the reader assumes when it is absent.
    std::vector<std::string> extra;
    for (size_t i = 0; i < c.f.n_keys(); i++)
        if (!ref.f.find(c.f.key(i).key)) extra.emplace_back(c.f.key(i).key);
    EXPECT_EQ(extra, (std::vector<std::string>{"tokenizer.ggml.add_bos_token", "llama.rope.freq_base",
                                               "general.alignment", "general.file_type"}));
    uint32_t ft = 9;
    EXPECT_TRUE(c.f.get_u32("general.file_type", ft) && ft == 0);
    // And both read back the same model and vocabulary.
    bf::llm::Model m;
    bf::llm::Vocab v;
    std::string err;
    ASSERT_TRUE(bf::llm::load_gguf_model(c.f, m, err)) << err;
    ASSERT_TRUE(bf::llm::load_vocab(c.f, v, err)) << err;
    EXPECT_TRUE(m.config.shared_classifier);
    EXPECT_EQ(m.config.vocab_size, 512);
    EXPECT_EQ(m.config.rope_theta, 10000.0f);
    EXPECT_EQ(m.config.norm_eps, 1e-5f);
}

// Converts to `type`, checks which tensors got it, writes the file and generates from it.
std::string convert_and_generate(uint32_t type, const char *tag) {
    Converted c;
    if (!c.make(type)) return "";
    bf::llm::Model m;
    std::string err;
    EXPECT_TRUE(bf::llm::load_gguf_model(c.f, m, err)) << err;
    for (size_t i = 0; i < c.f.n_tensors(); i++) {
        const gguf::Tensor &t = c.f.tensor(i);
        // Rows of 172 values (ffn_down) do not split into blocks of 32: those stay F32.
        const uint32_t want = t.n_dims == 1 || t.ne[0] % 32 ? uint32_t(q::F32) : type;
        EXPECT_EQ(t.type, want) << t.name;
    }
    EXPECT_EQ(c.report.kept_f32.size(), type == q::F32 ? 0u : 4u);
    // The dequantized weights stay within half a quantization step of the originals.
    const gguf::Tensor *wq = c.f.find_tensor("blk.0.attn_q.weight");
    std::vector<float> row(64);
    for (int r = 0; r < 64; r++) {
        q::dequantize_row(wq->type, wq->data + r * wq->row_bytes, row.data(), 64);
        for (int k = 0; k < 64; k++)
            EXPECT_NEAR(row[size_t(k)], c.model.weights.layers[0].wq.f32()[r * 64 + k], 0.05f);
    }
    const std::string path = ::testing::TempDir() + "conv_" + tag + "_" + std::to_string(getpid()) + ".gguf";
    FILE *fp = fopen(path.c_str(), "wb");
    EXPECT_NE(fp, nullptr);
    if (!fp) return "";
    fwrite(c.bytes.data(), 1, c.bytes.size(), fp);
    fclose(fp);
    int status = -1;
    const std::string text = llmtest::run_capture(std::string("'") + BF_LLM_CLI + "' generate '" + path +
                                                  "' - -t 0 -n 128 -p 'The robot' 2>/dev/null", &status);
    EXPECT_EQ(status, 0);
    remove(path.c_str());
    return text;
}

TEST(Convert, F32GeneratesLlamaCppText) {
    const std::string ref = shared_path("reference/gguf/aidreams260K-f32.greedy.the_robot.txt");
    LLM_REQUIRE_FILE(ref);
    EXPECT_EQ(convert_and_generate(q::F32, "f32"), llmtest::read_text(ref));
}

TEST(Convert, Q8_0LoadsAndGenerates) {
    LLM_REQUIRE_FILE(shared_path("models/aidreams260K.bin"));
    const std::string text = convert_and_generate(q::Q8_0, "q8_0");
    EXPECT_EQ(text.rfind("The robot", 0), 0u) << text;
    EXPECT_GT(text.size(), 200u);
}

TEST(Convert, Q4_0LoadsAndGenerates) {
    LLM_REQUIRE_FILE(shared_path("models/aidreams260K.bin"));
    const std::string text = convert_and_generate(q::Q4_0, "q4_0");
    EXPECT_EQ(text.rfind("The robot", 0), 0u) << text;
    EXPECT_GT(text.size(), 200u);
}

// A classifier of its own (negative vocab_size in the header, wcls after freq_cis) is written as
// output.weight: aidreams260K with the negated embedding appended as that classifier.
TEST(Convert, SeparateClassifierIsWritten) {
    LLM_REQUIRE_FILE(shared_path("models/aidreams260K.bin"));
    llmtest::Image im = llmtest::read_image(shared_path("models/aidreams260K.bin"));
    const size_t old = im.size, n = 512 * 64;
    std::vector<float> emb(n);
    memcpy(emb.data(), im.bytes() + 28, n * 4);
    im.resize(old + n * 4);  // the vector keeps the checkpoint's bytes
    for (size_t i = 0; i < n; i++) {
        const float v = -emb[i];
        memcpy(im.bytes() + old + i * 4, &v, 4);
    }
    im.set_header(5, -512);
    bf::llm::Model m;
    bf::llm::Tokenizer tok;
    std::string err;
    const std::string t = llmtest::read_text(shared_path("models/tok512.bin"));
    ASSERT_TRUE(bf::llm::load_model(im.data(), im.size, m, err)) << err;
    ASSERT_FALSE(m.config.shared_classifier);
    ASSERT_TRUE(bf::llm::load_tokenizer(t.data(), t.size(), 512, tok, err)) << err;
    std::vector<uint8_t> bytes;
    ASSERT_TRUE(bf::llm::convert_to_gguf(m, tok, q::F32, bytes, err)) << err;
    gguf::File f;
    ASSERT_TRUE(f.parse(bytes.data(), bytes.size(), err)) << err;
    const gguf::Tensor *out = f.find_tensor("output.weight");
    ASSERT_NE(out, nullptr);
    EXPECT_EQ(f.tensor(2).name, "output.weight");  // llama.cpp's place: after output_norm
    std::vector<float> got(n);
    memcpy(got.data(), out->data, n * 4);
    for (size_t i = 0; i < n; i++) ASSERT_EQ(got[i], -emb[i]) << i;
    bf::llm::Model back;
    ASSERT_TRUE(bf::llm::load_gguf_model(f, back, err)) << err;
    EXPECT_FALSE(back.config.shared_classifier);
}

TEST(Convert, RefusesBadInput) {
    LLM_REQUIRE_FILE(shared_path("models/aidreams260K.bin"));
    Converted c;
    ASSERT_TRUE(c.make(q::F32));
    std::vector<uint8_t> out;
    std::string err;
    EXPECT_FALSE(bf::llm::convert_to_gguf(c.model, c.tok, q::Q6_K, out, err));
    EXPECT_NE(err.find("not one of"), std::string::npos) << err;
    c.tok.vocab_size = 100;
    EXPECT_FALSE(bf::llm::convert_to_gguf(c.model, c.tok, q::F32, out, err));
    EXPECT_NE(err.find("tokenizer has 100 tokens"), std::string::npos) << err;
    uint32_t t = 0;
    EXPECT_TRUE(bf::llm::parse_convert_type("q4_0", t) && t == q::Q4_0);
    EXPECT_FALSE(bf::llm::parse_convert_type("q4_K", t));
}

}  // namespace
