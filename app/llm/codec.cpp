// The two tokenizer kinds behind one interface (codec.h).
#include "codec.h"

namespace bf::llm {

int Codec::vocab_size() const { return vocab ? vocab->n_tokens() : tok ? tok->vocab_size : 0; }

std::vector<int> Codec::encode_prompt(std::string_view text) const {
    if (!vocab) return tok->encode(text, true, false);
    std::vector<int> ids;
    if (vocab->add_bos() && vocab->bos() >= 0) ids.push_back(vocab->bos());
    vocab->encode(text, ids);
    return ids;
}

std::string Codec::piece(int prev, int next) const {
    if (!vocab) {
        const char *p = tok->decode(prev, next);
        return piece_is_printable(p) ? std::string(p) : std::string();
    }
    std::string_view p = vocab->piece(next);
    if (prev == vocab->bos() && vocab->kind() == VocabKind::kSpm && !p.empty() && p[0] == ' ') p.remove_prefix(1);
    return std::string(p);
}

bool Codec::ends(int next) const { return vocab ? vocab->is_eog(next) : next == kBosToken; }

}  // namespace bf::llm
