// Tokenizer vocabularies from GGUF metadata (tokenizer.ggml.*), encoding and decoding exactly as
// llama.cpp's tokenizer does for the two kinds in use by llama-family models:
//   "llama" — SentencePiece-style (SPM): a space prefix, spaces as U+2581, pieces merged by best
//             score, bytes without a piece fall back to <0xXX> tokens;
//   "gpt2"  — byte-level BPE: the text is split by the pre-tokenizer of its family
//             (tokenizer.ggml.pre), each word's bytes are mapped to GPT-2's printable code points
//             and merged by merge rank.
// The metadata is treated as hostile: load_vocab() checks every array's type and length, every
// id's range and every name, and refuses with a message naming the key.
//
// Not the llama2.c tokenizer.bin format: that is tokenizer.h.
#pragma once
#include <stddef.h>
#include <stdint.h>

#include <string>
#include <string_view>
#include <vector>

#include "llm/gguf.h"

namespace bf::llm {

enum class VocabKind : uint8_t { kSpm, kBpe };

// BPE pre-tokenizer families (tokenizer.ggml.pre names in parentheses).
enum class PreTokenizer : uint8_t {
    kNone,       // SPM vocabularies have none
    kDefault,    // (default, or the key missing) llama.cpp's fallback: punctuation runs, GPT-2, digit runs, ASCII digit triples
    kGpt2,       // (gpt-2, phi-2, mpt, olmo)
    kLlama3,     // (llama3, llama-v3, llama-bpe, falcon3): also "ignore merges" for whole-word tokens
    kQwen2,      // (qwen2, deepseek-r1-qwen)
    kStarcoder,  // (starcoder, refact, smollm, codeshell, command-r): digits split one by one, then GPT-2
};
const char *pre_tokenizer_name(PreTokenizer p);

// tokenizer.ggml.token_type values (gguf-py's TokenType).
enum class TokenType : uint8_t {
    kUndefined = 0, kNormal = 1, kUnknown = 2, kControl = 3, kUserDefined = 4, kUnused = 5, kByte = 6,
};

class Vocab {
public:
    VocabKind kind() const { return kind_; }
    PreTokenizer pre() const { return pre_; }
    int n_tokens() const { return int(types_.size()); }

    // Special ids; -1 when the vocabulary has none.
    int bos() const { return bos_; }
    int eos() const { return eos_; }
    int eot() const { return eot_; }
    int unk() const { return unk_; }
    int pad() const { return pad_; }
    bool add_bos() const { return add_bos_; }  // the caller puts bos() first when true
    bool add_eos() const { return add_eos_; }
    bool add_space_prefix() const { return add_space_prefix_; }

    // Id of the token whose text is exactly `text`, or -1.
    int find(std::string_view text) const;
    // Stored text of a token ("" for an id out of range).
    std::string_view text(int id) const;
    TokenType type(int id) const;
    float score(int id) const;

    // Appends the ids of `text` (no BOS/EOS: the caller adds them). User-defined tokens written in
    // the text are always recognised; control tokens (<|im_start|>, </s>) only with parse_special
    // (llama.cpp's flag of that name), which a chat template's own markup needs and user text must
    // not get (typing "</s>" would end the turn).
    void encode(std::string_view text, std::vector<int> &out, bool parse_special = false) const;

    // What a token prints: SPM U+2581 as a space and <0xXX> as the byte; BPE pieces mapped back
    // to raw bytes; control and unknown tokens print nothing; "" for an id out of range.
    std::string_view piece(int id) const;
    // Appends the pieces of ids. strip_space_prefix drops the leading space the SPM space prefix
    // put before the first piece (what llama.cpp's detokenize does); nothing else is cleaned up.
    void decode(const int *ids, size_t n, std::string &out, bool strip_space_prefix = false) const;

    // End of generation: EOS or EOT.
    bool is_eog(int id) const { return id >= 0 && (id == eos_ || id == eot_); }

private:
    friend bool load_vocab(const gguf::File &f, Vocab &out, std::string &err);
    friend struct VocabLoader;

    struct Fragment {  // part of the text: raw, or one user-defined token found in it
        int token;     // -1 for raw text
        size_t off, len;
    };
    void partition(std::string_view text, bool parse_special, std::vector<Fragment> &out) const;
    void encode_spm(std::string_view text, std::vector<int> &out) const;  // one raw fragment
    void encode_bpe(std::string_view text, std::vector<int> &out) const;  // one raw fragment
    int merge_rank(std::string_view left, std::string_view right) const;  // -1 if none

    VocabKind kind_ = VocabKind::kSpm;
    PreTokenizer pre_ = PreTokenizer::kNone;
    int bos_ = -1, eos_ = -1, eot_ = -1, unk_ = -1, pad_ = -1;
    bool add_bos_ = false, add_eos_ = false, add_space_prefix_ = false;
    bool ignore_merges_ = false;  // a word that is a whole token skips the merges (llama3)

    // Token texts back to back; token i is [text_off_[i], text_off_[i + 1]).
    std::string texts_;
    std::vector<uint32_t> text_off_;
    std::vector<float> scores_;
    std::vector<TokenType> types_;
    std::vector<int32_t> token_hash_;  // open addressing over ids, -1 = empty
    std::string pieces_;
    std::vector<uint32_t> piece_off_;

    // Merges "first second", back to back, with the split; hashed over the whole string.
    std::string merges_;
    std::vector<uint32_t> merge_off_;
    std::vector<uint32_t> merge_split_;  // length of `first`
    std::vector<int32_t> merge_hash_;

    std::vector<int> special_;          // user-defined, control, unknown ids; longest text first
    std::vector<uint8_t> strip_;        // per token: 1 = lstrip, 2 = rstrip (user-defined matches)
    int byte_token_[256] = {};          // per byte: its fallback token or -1 (see load_vocab)
};

// Reads the vocabulary of a parsed GGUF file. On failure returns false and sets err to a message
// that names the key ("vocab: tokenizer.ggml.scores has 31999 entries, expected 32000").
// `out` keeps its own copies: the file image may be freed afterwards.
bool load_vocab(const gguf::File &f, Vocab &out, std::string &err);

// The `tokenize MODEL FILE` command: prints the ids of FILE's exact bytes encoded with MODEL's
// vocabulary (no BOS/EOS), space-separated on one line. 0, or 1 with a message.
int run_tokenize(const char *model_path, const char *file_path);

}  // namespace bf::llm
