// Loading a model from files: the one place that reads a checkpoint and its tokenizer (generate,
// the REPL's `load`, bench-llm). The file's first bytes pick the format reader: GGUF
// (model_gguf.h) by its magic, else llama2.c's legacy checkpoint (model.h).
#pragma once
#include <stddef.h>

#include <string>

#include "bareflow/vfs.h"
#include "gguf.h"
#include "model.h"
#include "codec.h"
#include "tokenizer.h"
#include "vocab.h"

namespace bf::llm {

// A model and everything it points into. Movable: the weights point into file's heap buffer,
// which a move does not relocate.
struct LoadedModel {
    std::string model_path, tok_path;  // tok_path empty: no tokenizer loaded
    const char *format = "";           // the reader that took the file, e.g. "llama2.c"
    bf::vfs::Bytes file;               // the checkpoint's bytes; the weights live here
    gguf::File gguf;                   // a GGUF file's parsed metadata and tensor table
    Model model;
    Tokenizer tok;       // a llama2.c tokenizer file, or
    Vocab vocab;         // the GGUF file's own vocabulary (tokenizer.ggml.*)
    bool has_vocab = false;
    // The tokenizer in use, for generate(); valid while this object is.
    Codec codec() const;
};

// The largest files accepted: a checkpoint can be at most the header plus kMaxModelValues floats
// (model.cpp refuses more anyway); a tokenizer is a few MB at most in practice.
constexpr uint64_t kMaxModelFileBytes = 28 + kMaxModelValues * 4;
constexpr uint64_t kMaxTokenizerFileBytes = uint64_t(1) << 30;

// The checkpoint alone (bench-llm needs no tokenizer). False with err set, `out` unchanged.
bool load_model_file(const std::string &model_path, LoadedModel &out, std::string &err);

// The checkpoint, then the tokenizer checked against its vocabulary: tok_path; with tok_path
// empty or "-", a GGUF file's own vocabulary, or default_tok for a llama2.c checkpoint (which
// has none). False with err set (a file error names the path, a format error the field), `out`
// unchanged.
bool load(const std::string &model_path, const std::string &tok_path, LoadedModel &out, std::string &err,
          const std::string &default_tok = "");

}  // namespace bf::llm
