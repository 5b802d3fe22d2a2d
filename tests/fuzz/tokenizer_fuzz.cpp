// libFuzzer target: load_tokenizer with the vocabulary size from the first 2 bytes (little
// endian) and the rest as the file; when it loads, encode strings derived from the input and
// decode every token.
//
// Build, seed and run: tests/fuzz/run.sh tokenizer_fuzz SECONDS (from the repository root).
// The target is declared in tests/CMakeLists.txt (BF_FUZZ=ON); to build it alone:
//   tests/fuzz/run.sh --build   (configures build/fuzz, builds every target), then
//   cmake --build build/fuzz --target tokenizer_fuzz
// Seeds and run (2 minutes):
//   python3 tests/fuzz/make_seeds.py build/fuzz/corpus
//   build/fuzz/tokenizer_fuzz -max_total_time=120 -max_len=8192 build/fuzz/corpus/tokenizer
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <string>
#include <string_view>
#include <vector>

#include "llm/tokenizer.h"

namespace {

void check_ids(const bf::llm::Tokenizer &t, const std::vector<int> &ids, bool bos, bool eos) {
    for (size_t i = 0; i < ids.size(); i++) {
        const int id = ids[i];
        const bool special = (bos && i == 0 && id == bf::llm::kBosToken) ||
                             (eos && i + 1 == ids.size() && id == bf::llm::kEosToken);
        if (!special && (id < 0 || id >= t.vocab_size)) abort();
    }
    if (bos && (ids.empty() || ids[0] != bf::llm::kBosToken)) abort();
    if (eos && (ids.empty() || ids.back() != bf::llm::kEosToken)) abort();
    // Decoding any sequence is safe; so is the printing filter.
    for (size_t i = 1; i < ids.size(); i++) {
        const char *piece = t.decode(ids[i - 1], ids[i]);
        if (!piece) abort();
        (void)bf::llm::piece_is_printable(piece);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 2) return 0;
    const int vocab = int(data[0]) | int(data[1]) << 8;
    const unsigned char *file = data + 2;
    const size_t file_size = size - 2;
    bf::llm::Tokenizer t;
    std::string err;
    if (!bf::llm::load_tokenizer(file, file_size, vocab, t, err)) {
        if (err.empty() || err.compare(0, 11, "tokenizer: ") != 0) abort();
        return 0;
    }
    if (t.vocab_size != vocab || int(t.vocab.size()) != vocab) abort();
    // Every token decodes, after BOS and otherwise.
    for (int id = -1; id <= vocab; id++) {
        (void)bf::llm::piece_is_printable(t.decode(bf::llm::kBosToken, id));
        (void)bf::llm::piece_is_printable(t.decode(0, id));
        if (id >= 0 && id < vocab && t.lookup(t.vocab[size_t(id)]) < 0) abort();
    }
    // Strings from the input: its tail, the first tokens' text run together, and fixed ones.
    const size_t tail = file_size < 48 ? file_size : 48;
    std::string joined;
    for (int id = 0; id < vocab && joined.size() < 48; id++) joined += t.vocab[size_t(id)];
    const std::string texts[] = {
        std::string(reinterpret_cast<const char *>(file + file_size - tail), tail),
        joined,
        "",
        "Hello, world! h\xc3\xa9llo \xe2\x9c\x93 \xff\x80\x80\x80\x80\x80",
    };
    for (const std::string &text : texts) {
        check_ids(t, t.encode(text, true, false), true, false);
        check_ids(t, t.encode(text, false, true), false, true);
        check_ids(t, t.encode(text, false, false), false, false);
    }
    return 0;
}
