// GGUF vocabulary tests: llama.cpp's own tokenizer fixtures (every case of the four vocabularies
// in ../shared/tokenizers must give exactly its .out ids), the aidreams260K vocabulary against
// the llama2.c tokenizer, pieces, and hostile metadata refused with a message naming the key.
#include <gtest/gtest.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <sstream>
#include <string>
#include <vector>

#include "llm/gguf.h"
#include "llm/tokenizer.h"
#include "llm/unicode.h"
#include "llm/vocab.h"

#ifndef BF_SHARED_DIR
#define BF_SHARED_DIR "../shared"
#endif

namespace gguf = bf::llm::gguf;
using bf::llm::Vocab;

namespace {

std::string shared(const std::string &rel) { return std::string(BF_SHARED_DIR) + "/" + rel; }

std::string read_all(const std::string &p) {
    std::string s;
    FILE *f = fopen(p.c_str(), "rb");
    if (!f) return s;
    char buf[1 << 16];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) s.append(buf, n);
    fclose(f);
    return s;
}

// A vocabulary with its file image (the File's views point into it).
struct Loaded {
    std::string image;
    gguf::File file;
    Vocab vocab;
    std::string err;
    bool ok = false;
};

void load(const std::string &path, Loaded &l) {
    l.image = read_all(path);
    ASSERT_FALSE(l.image.empty()) << path;
    ASSERT_TRUE(l.file.parse(reinterpret_cast<const uint8_t *>(l.image.data()), l.image.size(), l.err)) << l.err;
    l.ok = bf::llm::load_vocab(l.file, l.vocab, l.err);
}

// llama.cpp's test-tokenizer-0 convention: cases are separated by "\n__ggml_vocab_test__\n"
// (so a case never ends with the newline before the separator); the text after the last
// separator is a case only if it is not empty. Line i of .out: the ids of case i.
void read_cases(const std::string &base, std::vector<std::string> &in, std::vector<std::vector<int>> &ids) {
    const std::string raw = read_all(base + ".inp");
    const std::string sep = "\n__ggml_vocab_test__\n";
    for (size_t pos = 0; pos < raw.size();) {
        const size_t next = raw.find(sep, pos);
        if (next == std::string::npos) { in.push_back(raw.substr(pos)); break; }
        in.push_back(raw.substr(pos, next - pos));
        pos = next + sep.size();
    }
    std::istringstream out(read_all(base + ".out"));
    for (std::string line; std::getline(out, line);) {
        std::istringstream ls(line);
        std::vector<int> v;
        for (int id; ls >> id;) v.push_back(id);
        ids.push_back(v);
    }
}

std::string join(const std::vector<int> &v) {
    std::string s;
    for (int id : v) s += (s.empty() ? "" : " ") + std::to_string(id);
    return s;
}

void run_fixture(const char *name, bf::llm::VocabKind kind, int expect_cases) {
    const std::string base = shared(std::string("tokenizers/ggml-vocab-") + name + ".gguf");
    Loaded l;
    load(base, l);
    ASSERT_TRUE(l.ok) << l.err;
    EXPECT_EQ(l.vocab.kind(), kind);
    std::vector<std::string> in;
    std::vector<std::vector<int>> want;
    read_cases(base, in, want);
    ASSERT_EQ(in.size(), want.size());
    ASSERT_EQ(int(in.size()), expect_cases);
    int pass = 0;
    for (size_t i = 0; i < in.size(); i++) {
        std::vector<int> got;
        l.vocab.encode(in[i], got);
        if (got == want[i]) pass++;
        else ADD_FAILURE() << name << " case " << i << " '" << in[i] << "'\n  want " << join(want[i])
                           << "\n  got  " << join(got);
    }
    printf("[ fixture  ] %s: %d/%zu cases pass\n", name, pass, in.size());
}

}  // namespace

TEST(Vocab, FixtureLlamaSpm) { run_fixture("llama-spm", bf::llm::VocabKind::kSpm, 46); }
TEST(Vocab, FixturePhi3) { run_fixture("phi-3", bf::llm::VocabKind::kSpm, 46); }
TEST(Vocab, FixtureGpt2) { run_fixture("gpt-2", bf::llm::VocabKind::kBpe, 46); }
TEST(Vocab, FixtureStarcoder) { run_fixture("starcoder", bf::llm::VocabKind::kBpe, 46); }

// ---- pieces, decoding, end of generation -------------------------------------------------------

TEST(Vocab, PiecesAndRoundTrip) {
    Loaded spm, gpt2, phi3;
    load(shared("tokenizers/ggml-vocab-llama-spm.gguf"), spm);
    load(shared("tokenizers/ggml-vocab-gpt-2.gguf"), gpt2);
    load(shared("tokenizers/ggml-vocab-phi-3.gguf"), phi3);
    ASSERT_TRUE(spm.ok && gpt2.ok && phi3.ok);

    const Vocab &s = spm.vocab;
    EXPECT_EQ(s.piece(s.find("\xE2\x96\x81Hello")), " Hello");
    EXPECT_EQ(s.piece(s.find("<0x0A>")), "\n");
    EXPECT_EQ(s.piece(1), "");  // <s>: control tokens print nothing
    EXPECT_EQ(s.piece(-1), "");
    EXPECT_EQ(s.piece(s.n_tokens()), "");
    EXPECT_TRUE(s.add_bos());
    EXPECT_EQ(s.bos(), 1);
    EXPECT_TRUE(s.is_eog(2));
    EXPECT_FALSE(s.is_eog(1));

    const Vocab &g = gpt2.vocab;
    EXPECT_EQ(g.pre(), bf::llm::PreTokenizer::kGpt2);
    EXPECT_EQ(g.piece(g.find("\xC4\xA0Hello")), " Hello");
    EXPECT_EQ(g.piece(g.find("\xC4\x8A")), "\n");
    EXPECT_FALSE(g.add_bos());
    EXPECT_TRUE(g.is_eog(50256));

    EXPECT_EQ(phi3.vocab.eos(), 32000);
    EXPECT_EQ(phi3.vocab.eot(), phi3.vocab.find("<|end|>"));  // found by its text
    EXPECT_TRUE(phi3.vocab.is_eog(phi3.vocab.eot()));

    // Byte-level BPE loses nothing; SPM loses nothing but the space prefix (stripped here).
    for (const char *name : {"gpt-2", "starcoder", "llama-spm", "phi-3"}) {
        const std::string base = shared(std::string("tokenizers/ggml-vocab-") + name + ".gguf");
        Loaded l;
        load(base, l);
        std::vector<std::string> in;
        std::vector<std::vector<int>> want;
        read_cases(base, in, want);
        for (const std::string &text : in) {
            std::vector<int> ids;
            l.vocab.encode(text, ids);
            std::string back;
            l.vocab.decode(ids.data(), ids.size(), back, true);
            EXPECT_EQ(back, text) << name;
        }
    }
}

// The aidreams260K GGUF holds tok512.bin's vocabulary as SPM: it must encode as llama2.c does.
TEST(Vocab, Aidreams260KMatchesLlama2cTokenizer) {
    Loaded l;
    load(shared("gguf/aidreams260K-f32.gguf"), l);
    ASSERT_TRUE(l.ok) << l.err;
    EXPECT_EQ(l.vocab.n_tokens(), 512);
    EXPECT_EQ(l.vocab.pad(), -1);  // stored as 0xFFFFFFFF
    const std::string bin = read_all(shared("models/tok512.bin"));
    ASSERT_FALSE(bin.empty());
    bf::llm::Tokenizer tok;
    std::string err;
    ASSERT_TRUE(bf::llm::load_tokenizer(bin.data(), bin.size(), 512, tok, err)) << err;
    for (const char *text : {"The robot", "Echoes of", "Once upon a time", "Hello, world!\nThe end.",
                             "caf\xC3\xA9 \xE2\x9C\x85 12345", "  two  spaces  "}) {
        std::vector<int> got;
        l.vocab.encode(text, got);
        EXPECT_EQ(join(got), join(tok.encode(text, false, false))) << text;
    }
    std::vector<int> robot;
    l.vocab.encode("The robot", robot);
    printf("[ aidreams ] \"The robot\" -> %s\n", join(robot).c_str());
}

// ---- hostile metadata ----------------------------------------------------------------------------

namespace {

// A vocabulary-only GGUF v3 image built from key/value entries (no tensors).
struct Writer {
    std::string kvs;
    uint64_t n = 0;
    void raw(const void *p, size_t k) { kvs.append(static_cast<const char *>(p), k); }
    void u32(uint32_t v) { raw(&v, 4); }
    void u64(uint64_t v) { raw(&v, 8); }
    void s(const std::string &v) { u64(v.size()); kvs += v; }
    void key(const std::string &k, gguf::ValueType t) { s(k); u32(uint32_t(t)); n++; }
    Writer &str(const std::string &k, const std::string &v) { key(k, gguf::ValueType::String); s(v); return *this; }
    Writer &u32v(const std::string &k, uint32_t v) { key(k, gguf::ValueType::U32); u32(v); return *this; }
    Writer &i32v(const std::string &k, int32_t v) { key(k, gguf::ValueType::I32); raw(&v, 4); return *this; }
    Writer &f32v(const std::string &k, float v) { key(k, gguf::ValueType::F32); raw(&v, 4); return *this; }
    Writer &boolean(const std::string &k, bool v) { key(k, gguf::ValueType::Bool); uint8_t b = v; raw(&b, 1); return *this; }
    Writer &strs(const std::string &k, const std::vector<std::string> &v) {
        key(k, gguf::ValueType::Array); u32(uint32_t(gguf::ValueType::String)); u64(v.size());
        for (const std::string &x : v) s(x);
        return *this;
    }
    Writer &f32s(const std::string &k, const std::vector<float> &v) {
        key(k, gguf::ValueType::Array); u32(uint32_t(gguf::ValueType::F32)); u64(v.size());
        for (float x : v) raw(&x, 4);
        return *this;
    }
    Writer &i32s(const std::string &k, const std::vector<int32_t> &v) {
        key(k, gguf::ValueType::Array); u32(uint32_t(gguf::ValueType::I32)); u64(v.size());
        for (int32_t x : v) raw(&x, 4);
        return *this;
    }
    std::string image() const {
        std::string out = "GGUF";
        uint32_t ver = 3;
        uint64_t nt = 0;
        out.append(reinterpret_cast<const char *>(&ver), 4);
        out.append(reinterpret_cast<const char *>(&nt), 8);
        out.append(reinterpret_cast<const char *>(&n), 8);
        return out + kvs;
    }
};

const std::string kSp = "\xE2\x96\x81";

// A valid SPM vocabulary; `skip` leaves one of its keys out so a test can replace it.
Writer spm(const std::string &skip = "") {
    Writer w;
    if (skip != "model") w.str("tokenizer.ggml.model", "llama");
    if (skip != "tokens") w.strs("tokenizer.ggml.tokens", {"<unk>", "<s>", "</s>", "<0x41>", kSp, "a", kSp + "a", "b"});
    if (skip != "scores") w.f32s("tokenizer.ggml.scores", {0, 0, 0, 0, -1, -2, -3, -4});
    if (skip != "types") w.i32s("tokenizer.ggml.token_type", {2, 3, 3, 6, 1, 1, 1, 1});
    return w;
}

Writer bpe(const std::string &skip = "") {
    Writer w;
    w.str("tokenizer.ggml.model", "gpt2");
    if (skip != "pre") w.str("tokenizer.ggml.pre", "gpt-2");
    w.strs("tokenizer.ggml.tokens", {"a", "b", "\xC4\xA0", "\xC4\xA0" "a", "ab", "\xC4\xA0" "ab", "<|endoftext|>"});
    if (skip != "merges") w.strs("tokenizer.ggml.merges", {"\xC4\xA0 a", "a b", "\xC4\xA0" "a b"});
    w.i32s("tokenizer.ggml.token_type", {1, 1, 1, 1, 1, 1, 3});
    w.u32v("tokenizer.ggml.eos_token_id", 6);
    return w;
}

// Loads an image; returns the error ("" on success).
std::string try_load(const Writer &w, Vocab *out = nullptr) {
    const std::string img = w.image();
    gguf::File f;
    std::string err;
    if (!f.parse(reinterpret_cast<const uint8_t *>(img.data()), img.size(), err)) return "parse: " + err;
    Vocab v;
    if (!bf::llm::load_vocab(f, v, err)) return err;
    if (out) *out = v;
    return "";
}

#define EXPECT_REFUSED(w, text) \
    do { const std::string e_ = try_load(w); EXPECT_NE(e_.find(text), std::string::npos) << "error: " << e_; } while (0)

}  // namespace

TEST(VocabHostile, ValidSmallVocabularies) {
    Vocab v;
    ASSERT_EQ(try_load(spm(), &v), "");
    std::vector<int> ids;
    v.encode("a ab", ids);  // "▁a▁ab": ▁a, ▁a, b
    EXPECT_EQ(join(ids), "6 6 7");
    ids.clear();
    v.encode("A", ids);  // ▁ then byte fallback <0x41>
    EXPECT_EQ(join(ids), "4 3");
    ids.clear();
    v.encode("c", ids);  // no piece, no byte token: unk
    EXPECT_EQ(join(ids), "4 0");

    ASSERT_EQ(try_load(bpe(), &v), "");
    ids.clear();
    v.encode("ab ab a", ids);  // "ab" | " ab" | " a": merges by rank
    EXPECT_EQ(join(ids), "4 5 3");
    std::string back;
    v.decode(ids.data(), ids.size(), back);
    EXPECT_EQ(back, "ab ab a");
    EXPECT_EQ(v.bos(), -1);  // default 11 is outside this vocabulary
    EXPECT_TRUE(v.is_eog(6));
    ASSERT_EQ(try_load(bpe("pre"), &v), "");
    EXPECT_EQ(v.pre(), bf::llm::PreTokenizer::kDefault);  // missing pre: llama.cpp's default
}

TEST(VocabHostile, KindAndPreNames) {
    EXPECT_REFUSED(spm("model"), "tokenizer.ggml.model is missing");
    EXPECT_REFUSED(spm("model").str("tokenizer.ggml.model", "bert"), "tokenizer.ggml.model 'bert' is not supported");
    EXPECT_REFUSED(spm("model").u32v("tokenizer.ggml.model", 1), "tokenizer.ggml.model is a u32, expected a string");
    EXPECT_REFUSED(bpe("pre").str("tokenizer.ggml.pre", "tekken"), "tokenizer.ggml.pre 'tekken' is not supported");
    EXPECT_REFUSED(bpe("merges"), "tokenizer.ggml.merges is missing");
    EXPECT_REFUSED(bpe("merges").i32s("tokenizer.ggml.merges", {1}), "tokenizer.ggml.merges is an array of i32, expected string");
}

TEST(VocabHostile, ArrayTypesAndLengths) {
    EXPECT_REFUSED(spm("tokens"), "tokenizer.ggml.tokens is missing");
    EXPECT_REFUSED(spm("tokens").i32s("tokenizer.ggml.tokens", {1, 2}), "tokenizer.ggml.tokens is an array of i32, expected string");
    EXPECT_REFUSED(spm("tokens").str("tokenizer.ggml.tokens", "a"), "tokenizer.ggml.tokens is a string, expected an array");
    EXPECT_REFUSED(spm("tokens").strs("tokenizer.ggml.tokens", {}), "tokenizer.ggml.tokens is empty");
    EXPECT_REFUSED(spm("tokens").strs("tokenizer.ggml.tokens", {"<unk>", "a", "b", "a", "c", "d", "e", "f"}),
                   "tokenizer.ggml.tokens has 'a' twice (ids 1 and 3)");
    EXPECT_REFUSED(spm("scores").f32s("tokenizer.ggml.scores", {0, 0, 0}), "tokenizer.ggml.scores has 3 entries, expected 8");
    EXPECT_REFUSED(spm("scores").strs("tokenizer.ggml.scores", {"x"}), "tokenizer.ggml.scores is an array of string, expected f32");
    EXPECT_REFUSED(spm("scores").f32s("tokenizer.ggml.scores", {0, 0, 0, 0, 0, NAN, 0, 0}), "tokenizer.ggml.scores[5] is NaN");
    EXPECT_REFUSED(spm("types").i32s("tokenizer.ggml.token_type", {1, 1}), "tokenizer.ggml.token_type has 2 entries, expected 8");
    EXPECT_REFUSED(spm("types").f32s("tokenizer.ggml.token_type", {1, 1, 1, 1, 1, 1, 1, 1}), "tokenizer.ggml.token_type is an array of f32, expected i32");
    EXPECT_REFUSED(spm("types").i32s("tokenizer.ggml.token_type", {2, 3, 3, 6, 1, 9, 1, 1}), "tokenizer.ggml.token_type[5] = 9 is not a token type");
    EXPECT_REFUSED(spm("types").i32s("tokenizer.ggml.token_type", {2, 3, 3, 6, 6, 1, 1, 1}), "token 4 '\\xE2\\x96\\x81' has type BYTE but is not <0xXX>");
}

TEST(VocabHostile, SpecialIdsAndFlags) {
    EXPECT_REFUSED(spm().u32v("tokenizer.ggml.bos_token_id", 8), "tokenizer.ggml.bos_token_id = 8 is out of range (8 tokens)");
    EXPECT_REFUSED(spm().i32v("tokenizer.ggml.eos_token_id", -5), "tokenizer.ggml.eos_token_id = -5 is out of range");
    EXPECT_REFUSED(spm().u32v("tokenizer.ggml.unknown_token_id", 1000), "tokenizer.ggml.unknown_token_id = 1000 is out of range");
    EXPECT_REFUSED(spm().u32v("tokenizer.ggml.eot_token_id", 99), "tokenizer.ggml.eot_token_id = 99");
    EXPECT_REFUSED(spm().u32v("tokenizer.ggml.padding_token_id", 9), "tokenizer.ggml.padding_token_id = 9");
    EXPECT_REFUSED(spm().f32v("tokenizer.ggml.bos_token_id", 1), "tokenizer.ggml.bos_token_id is a f32, expected an integer token id");
    EXPECT_REFUSED(spm().u32v("tokenizer.ggml.add_bos_token", 1), "tokenizer.ggml.add_bos_token is a u32, expected a bool");
    EXPECT_REFUSED(spm().str("tokenizer.ggml.add_space_prefix", "yes"), "tokenizer.ggml.add_space_prefix is a string, expected a bool");
    // BOS switched off (0xFFFFFFFF = none) while the SPM default adds it.
    EXPECT_REFUSED(spm().u32v("tokenizer.ggml.bos_token_id", 0xFFFFFFFFu),
                   "tokenizer.ggml.add_bos_token is true, but there is no BOS token");
    Vocab v;
    ASSERT_EQ(try_load(spm().u32v("tokenizer.ggml.bos_token_id", 0xFFFFFFFFu).boolean("tokenizer.ggml.add_bos_token", false), &v), "");
    EXPECT_EQ(v.bos(), -1);
    ASSERT_EQ(try_load(spm().boolean("tokenizer.ggml.add_space_prefix", false), &v), "");
    std::vector<int> ids;
    v.encode("a", ids);
    EXPECT_EQ(join(ids), "5");
}
