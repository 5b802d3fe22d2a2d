// The two tokenizer kinds behind one interface (codec.h).
#include "codec.h"

namespace bf::llm {

int Codec::vocab_size() const { return vocab ? vocab->n_tokens() : tok ? tok->vocab_size : 0; }

std::vector<int> Codec::encode(std::string_view text, bool bos, bool special) const {
    if (!vocab) return tok->encode(text, bos, false);
    std::vector<int> ids;
    vocab->encode(text, ids, special);
    // A template that writes bos_token itself (parsed as special) already has it: never two.
    const bool has_bos = special && !ids.empty() && ids[0] == vocab->bos();
    if (bos && vocab->add_bos() && vocab->bos() >= 0 && !has_bos)
        ids.insert(ids.begin(), vocab->bos());
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
