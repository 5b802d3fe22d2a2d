// llama2.c checkpoint + tokenizer.bin -> GGUF (architecture `llama`), the way llama.cpp's
// convert-llama2c-to-ggml and llama-quantize --pure lay it out: llama.cpp's tensor names and
// metadata keys, the SPM vocabulary with token types, 2-D weights in the requested type (F32,
// Q8_0 or Q4_0, quantized with ggml's reference rows, so the bytes equal llama-quantize's) and
// norms in F32. The `quantize` command writes the result through bf::vfs.
#pragma once
#include <stdint.h>

#include <string>
#include <string_view>
#include <vector>

#include "model.h"
#include "tokenizer.h"

namespace bf::llm {

// "f32", "q8_0", "q4_0" -> ggml type id; false for anything else.
bool parse_convert_type(std::string_view name, uint32_t &type);

struct ConvertReport {
    int n_tensors = 0;
    // 2-D weights left in F32 because their rows are not a multiple of the type's block of 32
    // values. llama-quantize has no fallback for Q8_0/Q4_0 (it stops with "Unsupported tensor
    // size encountered"); F32 keeps such a model usable and exact.
    std::vector<std::string> kept_f32;
    // Q4_K matrices whose rows are not a multiple of 256 but of 32, written as Q5_0 instead
    // (llama-quantize's fallback for Q4_K).
    std::vector<std::string> q5_0;
};

// Builds the GGUF image of a llama2.c model and its tokenizer (vocab_size entries). progress:
// one line per tensor on stderr. False with err set.
bool convert_to_gguf(const Model &m, const Tokenizer &tok, uint32_t type, std::vector<uint8_t> &out,
                     std::string &err, ConvertReport *report = nullptr, bool progress = false);

// The command: quantize MODEL.bin TOKENIZER.bin OUT.gguf f32|q8_0|q4_0|q4_k. Returns the exit status
// (2 for a usage error, 1 for a failure, with a message on stderr).
int run_quantize(const char *model, const char *tokenizer, const char *out, const char *type);

}  // namespace bf::llm
