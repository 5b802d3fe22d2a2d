// GGUF reader on the shared data: every file in ../shared/gguf and ../shared/tokenizers parses,
// with the facts its README states (architecture, context, tensor types and counts, vocabularies).
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "llm/gguf.h"
#include "test_util.h"

namespace gguf = bf::llm::gguf;
using gguf::ValueType;

namespace {

std::string shared(const std::string &rel) { return llmtest::shared_path(rel.c_str()); }

}  // namespace

// ---- the shared files --------------------------------------------------------------------------

namespace {

struct Parsed {
    std::vector<uint8_t> img;
    gguf::File f;
};

bool load(const std::string &path, Parsed &p) {
    p.img = llmtest::read_bytes(path);
    std::string err;
    const bool ok = !p.img.empty() && p.f.parse(p.img.data(), p.img.size(), err);
    EXPECT_TRUE(ok) << path << ": " << err;
    return ok;
}

std::map<std::string, int> type_counts(const gguf::File &f) {
    std::map<std::string, int> m;
    for (size_t i = 0; i < f.n_tensors(); i++) m[gguf::type_name(f.tensor(i).type)]++;
    return m;
}

#define SKIP_WITHOUT_SHARED()                                                         \
    do {                                                                              \
        if (!std::filesystem::is_directory(shared("gguf")))                           \
            GTEST_SKIP() << "no shared test data at " << BF_SHARED_DIR;               \
    } while (0)

}  // namespace

TEST(GgufShared, EveryFileParses) {
    SKIP_WITHOUT_SHARED();
    std::vector<std::string> files;
    for (const char *dir : {"gguf", "gguf/quant", "tokenizers"})
        for (const auto &e : std::filesystem::directory_iterator(shared(dir)))
            if (e.path().extension() == ".gguf") files.push_back(e.path().string());
    std::sort(files.begin(), files.end());
    EXPECT_GE(files.size(), 19u);
    for (const std::string &path : files) {
        Parsed p;
        if (!load(path, p)) continue;
        // Every tensor lies inside the image, in the data section; arrays read to their end.
        for (size_t i = 0; i < p.f.n_tensors(); i++) {
            const gguf::Tensor &t = p.f.tensor(i);
            EXPECT_GE(t.offset, p.f.data_offset());
            EXPECT_LE(t.offset + t.size, p.img.size());
        }
        for (size_t i = 0; i < p.f.n_keys(); i++) {
            const gguf::KeyValue &kv = p.f.key(i);
            if (kv.value.type != ValueType::Array || kv.value.elem_type != ValueType::String) continue;
            gguf::Array a;
            ASSERT_TRUE(p.f.get_array(kv.key, a));
            gguf::StringCursor c = a.strings();
            std::string_view s;
            uint64_t n = 0;
            while (c.next(s)) n++;
            EXPECT_EQ(n, a.count) << path << " " << kv.key;
        }
    }
}

TEST(GgufShared, Aidreams260K) {
    SKIP_WITHOUT_SHARED();
    Parsed f32, q;
    ASSERT_TRUE(load(shared("gguf/aidreams260K-f32.gguf"), f32));
    ASSERT_TRUE(load(shared("gguf/aidreams260K-Q4_K_M.gguf"), q));
    for (const gguf::File *f : {&f32.f, &q.f}) {
        EXPECT_EQ(f->version(), 3u);
        std::string_view arch;
        ASSERT_TRUE(f->get_string("general.architecture", arch));
        EXPECT_EQ(arch, "llama");
        uint64_t ctx = 0;
        ASSERT_TRUE(f->get_uint("llama.context_length", ctx));
        EXPECT_EQ(ctx, 128u);
        gguf::Array toks;
        ASSERT_TRUE(f->get_array("tokenizer.ggml.tokens", toks));
        EXPECT_EQ(toks.count, 512u);
        EXPECT_EQ(f->n_tensors(), 39u);
    }
    EXPECT_EQ(type_counts(f32.f), (std::map<std::string, int>{{"f32", 39}}));
    EXPECT_EQ(type_counts(q.f), (std::map<std::string, int>{{"q5_0", 23}, {"q8_0", 3}, {"f16", 4}, {"f32", 9}}));
    const gguf::Tensor *emb = f32.f.find_tensor("token_embd.weight");
    ASSERT_NE(emb, nullptr);
    EXPECT_EQ(emb->ne[1], 512);
}

TEST(GgufShared, Syn3MTypes) {
    SKIP_WITHOUT_SHARED();
    const std::pair<const char *, uint32_t> files[] = {
        {"f32", gguf::kF32},   {"f16", gguf::kF16},     {"bf16", gguf::kBF16},   {"q8_0", gguf::kQ8_0},
        {"q4_0", gguf::kQ4_0}, {"q4_1", gguf::kQ4_1},   {"q5_0", gguf::kQ5_0},   {"q5_1", gguf::kQ5_1},
        {"q2_K", gguf::kQ2_K}, {"q3_K_S", gguf::kQ3_K}, {"q4_K_S", gguf::kQ4_K}, {"q5_K_S", gguf::kQ5_K},
        {"q6_K", gguf::kQ6_K},
    };
    for (const auto &[name, type] : files) {
        Parsed p;
        ASSERT_TRUE(load(shared(std::string("gguf/quant/syn3M-") + name + ".gguf"), p));
        const gguf::Tensor *t = p.f.find_tensor("blk.0.ffn_up.weight");
        ASSERT_NE(t, nullptr) << name;
        EXPECT_EQ(t->type, type) << name;
        EXPECT_EQ(t->n_dims, 2u);
        EXPECT_EQ(t->ne[0], 256);
        EXPECT_EQ(t->ne[1], 768);
        const gguf::TypeTraits *tt = gguf::type_traits(type);
        ASSERT_NE(tt, nullptr);
        EXPECT_EQ(t->size, 768u * 256u / tt->block_size * tt->block_bytes);
        const gguf::Tensor *norm = p.f.find_tensor("blk.0.attn_norm.weight");
        ASSERT_NE(norm, nullptr) << name;
        EXPECT_EQ(norm->type, gguf::kF32) << name;
        uint64_t ctx;
        ASSERT_TRUE(p.f.get_uint("llama.context_length", ctx));
        EXPECT_EQ(ctx, 128u);  // the README says 256; the converter wrote 128 into every file
        uint64_t heads_kv;
        ASSERT_TRUE(p.f.get_uint("llama.attention.head_count_kv", heads_kv));
        EXPECT_EQ(heads_kv, 4u);
    }
}

TEST(GgufShared, TokenizerVocabularies) {
    SKIP_WITHOUT_SHARED();
    const std::pair<const char *, uint64_t> files[] = {
        {"llama-spm", 32000}, {"phi-3", 32064}, {"gpt-2", 0}, {"starcoder", 0}};
    for (const auto &[name, n] : files) {
        Parsed p;
        ASSERT_TRUE(load(shared(std::string("tokenizers/ggml-vocab-") + name + ".gguf"), p));
        std::string_view model;
        ASSERT_TRUE(p.f.get_string("tokenizer.ggml.model", model));
        EXPECT_EQ(model, n ? "llama" : "gpt2") << name;
        gguf::Array toks;
        ASSERT_TRUE(p.f.get_array("tokenizer.ggml.tokens", toks));
        std::string_view tok;
        if (n) {
            EXPECT_EQ(toks.count, n) << name;
            ASSERT_TRUE(toks.get_string(1, tok));
            EXPECT_EQ(tok, "<s>");
        }
    }
}
