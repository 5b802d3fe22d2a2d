// `tokenize MODEL FILE`: FILE's text encoded with MODEL's GGUF vocabulary, ids space-separated
// on one line (BOS first when the vocabulary adds it, EOS last likewise), as llama.cpp's
// llama-tokenize --ids would print them. Plain fopen for now (the FAT16 layer backs it on metal).
#include <stdio.h>

#include <string>
#include <vector>

#include "llm/gguf.h"
#include "llm/vocab.h"

namespace bf::llm {

static bool read_file(const char *path, std::string &out) {
    FILE *f = fopen(path, "rb");
    if (!f) return false;
    char buf[1 << 14];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
    const bool ok = !ferror(f);
    fclose(f);
    return ok;
}

int run_tokenize(const char *model_path, const char *file_path) {
    std::string image, text, err;
    if (!read_file(model_path, image)) {
        fprintf(stderr, "tokenize: cannot read %s\n", model_path);
        return 1;
    }
    if (!read_file(file_path, text)) {
        fprintf(stderr, "tokenize: cannot read %s\n", file_path);
        return 1;
    }
    gguf::File file;
    if (!file.parse(reinterpret_cast<const uint8_t *>(image.data()), image.size(), err)) {
        fprintf(stderr, "tokenize: %s: %s\n", model_path, err.c_str());
        return 1;
    }
    Vocab vocab;
    if (!load_vocab(file, vocab, err)) {
        fprintf(stderr, "tokenize: %s: %s\n", model_path, err.c_str());
        return 1;
    }
    std::vector<int> ids;
    if (vocab.add_bos()) ids.push_back(vocab.bos());
    vocab.encode(text, ids);
    if (vocab.add_eos()) ids.push_back(vocab.eos());
    std::string line;
    for (size_t i = 0; i < ids.size(); i++) {
        if (i) line.push_back(' ');
        line += std::to_string(ids[i]);
    }
    printf("%s\n", line.c_str());
    return 0;
}

}  // namespace bf::llm
