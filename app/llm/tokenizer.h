// llama2.c's BPE tokenizer (tokenizer.bin format: int32 max_token_length, then per token
// float32 score, int32 length, the bytes). Encoding and decoding behave as run.c's encode() and
// decode(): sorted vocabulary + binary search, a " " dummy prefix before non-empty text, UTF-8
// code points looked up whole, byte fallback to <0xXX> tokens (id = byte + 3), then greedy
// merging of the adjacent pair whose merged token scores best.
#pragma once
#include <stddef.h>

#include <string>
#include <string_view>
#include <vector>

namespace bf::llm {

constexpr int kBosToken = 1;
constexpr int kEosToken = 2;
constexpr int kMaxTokenLength = 1 << 16;  // sanity ceiling for the header's max_token_length

struct Tokenizer {
    int vocab_size = 0;
    int max_token_length = 0;
    // Token strings with C-string semantics, as run.c sees them (cut at an embedded NUL).
    std::vector<std::string> vocab;
    std::vector<float> scores;
    std::vector<int> sorted_ids;  // ids ordered by their strings (strcmp order)
    char byte_pieces[512];        // byte i as the C string byte_pieces + 2 * i

    // Token id of exactly `s`, or -1.
    int lookup(std::string_view s) const;

    // run.c encode(): optional BOS (1) first, optional EOS (2) last. The text is taken as a C
    // string (it ends at its first NUL). Deviation from run.c where run.c would misbehave: a
    // byte-fallback id outside the vocabulary becomes 0 (<unk>), a missing " " dummy-prefix
    // token is left out, and BOS never merges with the text (no real vocabulary allows it).
    std::vector<int> encode(std::string_view text, bool bos, bool eos) const;

    // run.c's merge loop over tokens[first..] (n log n; tokenizer.cpp says how).
    void merge_pairs(std::vector<int> &tokens, size_t first) const;

    // run.c decode(): the piece for `token` following `prev`: the leading space is dropped after
    // BOS, and "<0xXX>" tokens turn into the raw byte. Never null; "" for an id out of range.
    const char *decode(int prev, int token) const;
};

// Validates and parses a tokenizer image (copied: `data` may be freed afterwards). vocab_size is
// the model's. On failure returns false and sets err to a message naming the problem, e.g.
// "tokenizer: has 512 tokens but the model's vocabulary is 32000".
bool load_tokenizer(const void *data, size_t size, int vocab_size, Tokenizer &out,
                    std::string &err);

// run.c's safe_printf() filter: false for the pieces run.c does not print (empty ones and single
// bytes that are neither printable nor whitespace in the C locale).
bool piece_is_printable(const char *piece);

}  // namespace bf::llm
