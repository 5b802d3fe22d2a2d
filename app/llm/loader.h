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
    std::string note;    // what the loader decided for the user (e.g. a context reduced to fit)
    // The tokenizer in use, for generate(); valid while this object is.
    Codec codec() const;
};

// The largest files accepted: a checkpoint can be at most the header plus kMaxModelValues floats
// (model.cpp refuses more anyway); a tokenizer is a few MB at most in practice.
constexpr uint64_t kMaxModelFileBytes = 28 + kMaxModelValues * 4;
constexpr uint64_t kMaxTokenizerFileBytes = uint64_t(1) << 30;

// The checkpoint alone (bench-llm needs no tokenizer). False with err set, `out` unchanged.
bool load_model_file(const std::string &model_path, LoadedModel &out, std::string &err);

// How to run a model (BAREFLOW.CFG's tokenizer, ctx and kv keys).
struct LoadOptions {
    std::string default_tokenizer;  // for a llama2.c checkpoint given no tokenizer
    int ctx = 0;      // KV cache positions; 0: the model's context, reduced to fit in free memory
    int kv_f16 = -1;  // -1: the format's (llama2.c f32: run.c's numbers; GGUF f16: llama.cpp's)
};

// The checkpoint, then the tokenizer checked against its vocabulary: tok_path; with tok_path
// empty or "-", a GGUF file's own vocabulary, or opt.default_tokenizer for a llama2.c checkpoint
// (which has none). Then the context: opt.ctx, or the model's if its run state fits in free
// memory, else the largest power-of-two context that does (out.note says so); an explicit ctx
// that does not fit is an error with the numbers. False with err set (a file error names the
// path, a format error the field), `out` unchanged.
bool load(const std::string &model_path, const std::string &tok_path, LoadedModel &out, std::string &err,
          const LoadOptions &opt = {});

}  // namespace bf::llm
