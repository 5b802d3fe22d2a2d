// GGUF vocabulary tests: llama.cpp's own tokenizer fixtures (every case of the four vocabularies
// in ../shared/tokenizers must give exactly its .out ids), the aidreams260K vocabulary against
// the llama2.c tokenizer, pieces, and hostile metadata refused with a message naming the key.
#include <gtest/gtest.h>
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
