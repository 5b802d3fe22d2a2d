// The model loader (loader.h): sniff the format, read the file once, hand it to the format's reader.
#include "loader.h"

#include "model_gguf.h"

#include <stdio.h>
#include <string.h>

namespace bf::llm {
namespace {

// One model file format. `matches` sees the file's first bytes (fewer if the file is shorter);
// `read` parses the whole file into out.model (the weights may point into out.file).
struct FormatReader {
    const char *name;
    bool (*matches)(const unsigned char *head, size_t n);
    bool (*read)(LoadedModel &out, std::string &err);
};

bool is_gguf(const unsigned char *head, size_t n) { return n >= 4 && !memcmp(head, "GGUF", 4); }

// llama2.c's legacy format has no magic number: it takes whatever no other reader claims.
bool any(const unsigned char *, size_t) { return true; }

bool read_gguf(LoadedModel &out, std::string &err) {
    return out.gguf.parse(out.file.data(), out.file.size(), err) && load_gguf_model(out.gguf, out.model, err);
}

bool read_llama2c(LoadedModel &out, std::string &err) {
    return load_model(out.file.data(), out.file.size(), out.model, err);
}

// First match wins: the catch-all llama2.c reader stays last.
constexpr FormatReader kReaders[] = {
    {"GGUF", is_gguf, read_gguf},
    {"llama2.c", any, read_llama2c},
};

// The file's first bytes, for sniffing before the (possibly huge) read; a file that cannot be
// opened yields none, and read_all then reports why.
size_t read_head(const std::string &path, unsigned char *head, size_t cap) {
    FILE *f = bf::vfs::fopen(path.c_str(), "rb");
    if (!f) return 0;
    const size_t n = fread(head, 1, cap, f);
    fclose(f);
    return n;
}

}  // namespace

bool load_model_file(const std::string &model_path, LoadedModel &out, std::string &err) {
    unsigned char head[8];
    const size_t n = read_head(model_path, head, sizeof head);
    const FormatReader *reader = &kReaders[0];
    while (!reader->matches(head, n)) reader++;
    LoadedModel l;
    l.model_path = model_path;
    l.format = reader->name;
    if (!bf::vfs::read_all(model_path.c_str(), kMaxModelFileBytes, l.file, err) || !reader->read(l, err))
        return false;
    out = std::move(l);
    return true;
}

bool load(const std::string &model_path, const std::string &tok_arg, LoadedModel &out, std::string &err,
          const std::string &default_tok) {
    LoadedModel l;
    if (!load_model_file(model_path, l, err)) return false;
    const int vocab_size = l.model.config.vocab_size;
    const bool own = tok_arg.empty() || tok_arg == "-";
    const std::string tok_path = own && !l.gguf.n_keys() ? default_tok : tok_arg;
    if (own && l.gguf.n_keys()) {  // the GGUF file's own vocabulary
        if (!load_vocab(l.gguf, l.vocab, err)) return false;
        if (l.vocab.n_tokens() != vocab_size) {
            err = "tokenizer: the vocabulary has " + std::to_string(l.vocab.n_tokens()) +
                  " tokens but the model's embedding has " + std::to_string(vocab_size) + " rows";
            return false;
        }
        l.has_vocab = true;
        l.tok_path = model_path + " (its own vocabulary)";
    } else if (tok_path.empty() || tok_path == "-") {
        err = "tokenizer: " + model_path + " is a llama2.c checkpoint: it needs a tokenizer file";
        return false;
    } else {
        bf::vfs::Bytes tok_file;
        if (!bf::vfs::read_all(tok_path.c_str(), kMaxTokenizerFileBytes, tok_file, err) ||
            !load_tokenizer(tok_file.data(), tok_file.size(), vocab_size, l.tok, err))
            return false;
        l.tok_path = tok_path;
    }
    out = std::move(l);
    return true;
}

Codec LoadedModel::codec() const {
    Codec c;
    if (has_vocab) c.vocab = &vocab;
    else c.tok = &tok;
    return c;
}

}  // namespace bf::llm
