// What generation needs of a tokenizer, over either kind a model comes with: llama2.c's
// tokenizer.bin (tokenizer.h, run.c's rules) or a GGUF file's own vocabulary (vocab.h,
// llama.cpp's rules). A small value type: it points at the tokenizer, which must outlive it.
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer.h"
#include "vocab.h"

namespace bf::llm {

struct Codec {
    const Tokenizer *tok = nullptr;  // llama2.c, or
    const Vocab *vocab = nullptr;    // GGUF

    int vocab_size() const;
    // The prompt's ids: BOS first (llama2.c always; GGUF when the vocabulary says), then the text.
    std::vector<int> encode_prompt(std::string_view text) const { return encode(text, true, false); }
    // The text's ids, with BOS first if `bos` (and the tokenizer uses one); `special`: control
    // tokens written in the text become their ids (GGUF only: a chat template's markup).
    std::vector<int> encode(std::string_view text, bool bos, bool special) const;
    // What to print for token `next` following `prev`: llama2.c as run.c's decode + safe_printf
    // (nothing for an unprintable byte); GGUF the token's piece (control tokens print nothing),
    // without the space prefix's leading space right after BOS, as llama.cpp prints it.
    std::string piece(int prev, int next) const;
    // Generation stops before `next`: BOS for llama2.c (run.c), end-of-generation (EOS, EOT)
    // for GGUF (llama.cpp).
    bool ends(int next) const;
};

}  // namespace bf::llm
