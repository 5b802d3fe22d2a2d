// libFuzzer target: the GGUF tokenizers (app/llm/vocab*.cpp) encoding arbitrary text. The first
// input byte picks one of five vocabularies loaded once from the shared data (llama.cpp's
// llama-spm, phi-3, gpt-2 and starcoder fixtures and the aidreams260K model); the rest is the
// text. The vocabulary files are trusted here (the GGUF reader and load_vocab's checks are
// covered by gguf_fuzz and the unit tests). Checked: no crash or sanitizer report, every id in
// range, and decode(encode(text)) == text for the byte-level BPE vocabularies when the text is
// valid UTF-8 and each of its bytes has a token (starcoder has none for 0xF1: llama.cpp drops
// such bytes too), and for llama-spm (every byte token) when the text holds no U+2581.
//
// Built and seeded by tests/fuzz/run.sh vocab_fuzz SECONDS: every fixture case behind its
// vocabulary's selector byte. The shared data is read from BF_SHARED_DIR (default ../shared).
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <string>
#include <string_view>
#include <vector>

#include "llm/gguf.h"
#include "llm/unicode.h"
#include "llm/vocab.h"

namespace {

struct Entry {
    const char *path;
    bool round_trip_bpe;
    bool round_trip_spm;
    std::string image;
    bf::llm::gguf::File file;
    bf::llm::Vocab vocab;
    bool has_byte[256];  // BPE: the byte's GPT-2 code point is a token
};

Entry g_vocabs[] = {
    {"tokenizers/ggml-vocab-llama-spm.gguf", false, true, {}, {}, {}, {}},
    {"tokenizers/ggml-vocab-phi-3.gguf", false, false, {}, {}, {}, {}},
    {"tokenizers/ggml-vocab-gpt-2.gguf", true, false, {}, {}, {}, {}},
    {"tokenizers/ggml-vocab-starcoder.gguf", true, false, {}, {}, {}, {}},
    {"gguf/aidreams260K-f32.gguf", false, false, {}, {}, {}, {}},
};
constexpr int kN = sizeof g_vocabs / sizeof g_vocabs[0];

void load_all() {
    const char *dir = getenv("BF_SHARED_DIR");
    if (!dir) dir = "../shared";
    for (Entry &e : g_vocabs) {
        const std::string p = std::string(dir) + "/" + e.path;
        FILE *f = fopen(p.c_str(), "rb");
        if (!f) { fprintf(stderr, "vocab_fuzz: cannot read %s (set BF_SHARED_DIR)\n", p.c_str()); abort(); }
        char buf[1 << 16];
        size_t n;
        while ((n = fread(buf, 1, sizeof buf, f)) > 0) e.image.append(buf, n);
        fclose(f);
        std::string err;
        if (!e.file.parse(reinterpret_cast<const uint8_t *>(e.image.data()), e.image.size(), err) ||
            !bf::llm::load_vocab(e.file, e.vocab, err)) {
            fprintf(stderr, "vocab_fuzz: %s: %s\n", p.c_str(), err.c_str());
            abort();
        }
        for (int b = 0; b < 256; b++) {
            std::string s;
            bf::llm::unicode::append_utf8(bf::llm::unicode::byte_to_cp(uint8_t(b)), s);
            e.has_byte[b] = e.vocab.find(s) >= 0;
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static bool loaded = (load_all(), true);
    (void)loaded;
    if (size < 1) return 0;
    Entry &e = g_vocabs[data[0] % kN];
    const std::string_view text(reinterpret_cast<const char *>(data + 1), size - 1);
    std::vector<int> ids;
    e.vocab.encode(text, ids);
    for (int id : ids)
        if (id < 0 || id >= e.vocab.n_tokens()) abort();
    // Chat turns parse control tokens in the text too (chat.cpp): the same ranges hold.
    std::vector<int> special_ids;
    e.vocab.encode(text, special_ids, true);
    for (int id : special_ids)
        if (id < 0 || id >= e.vocab.n_tokens()) abort();
    std::string back;
    e.vocab.decode(ids.data(), ids.size(), back, true);
    const bool valid = bf::llm::unicode::valid_utf8(text);
    bool covered = true;
    for (char c : text) covered = covered && e.has_byte[uint8_t(c)];
    if (e.round_trip_bpe && valid && covered && back != text) abort();
    if (e.round_trip_spm && valid && text.find("\xE2\x96\x81") == std::string_view::npos && back != text) abort();
    return 0;
}
