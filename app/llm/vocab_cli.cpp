// `tokenize MODEL FILE`: the ids of FILE's exact bytes encoded with MODEL's GGUF vocabulary (no
// BOS or EOS added), space-separated on one line, as llama.cpp's tokenizer tests list them. MODEL
// may be a vocabulary-only GGUF (llama.cpp's ggml-vocab-*.gguf). Files through bf::vfs.
#include <stdio.h>

#include <string>
#include <vector>

#include "bareflow/vfs.h"
#include "llm/gguf.h"
#include "llm/vocab.h"

namespace bf::llm {

int run_tokenize(const char *model_path, const char *file_path) {
    std::string err;
    bf::vfs::Bytes image, text;
    if (!bf::vfs::read_all(model_path, uint64_t(1) << 40, image, err) ||
        !bf::vfs::read_all(file_path, uint64_t(1) << 30, text, err)) {
        fprintf(stderr, "tokenize: %s\n", err.c_str());
        return 1;
    }
    gguf::File file;
    Vocab vocab;
    if (!file.parse(image.data(), image.size(), err) || !load_vocab(file, vocab, err)) {
        fprintf(stderr, "tokenize: %s: %s\n", model_path, err.c_str());
        return 1;
    }
    std::vector<int> ids;
    vocab.encode(std::string_view(reinterpret_cast<const char *>(text.data()), text.size()), ids);
    std::string line;
    for (size_t i = 0; i < ids.size(); i++) {
        if (i) line.push_back(' ');
        line += std::to_string(ids[i]);
    }
    printf("%s\n", line.c_str());
    return 0;
}

}  // namespace bf::llm
