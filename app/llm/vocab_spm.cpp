// SentencePiece-style encoding of one raw fragment, as llama.cpp's SPM tokenizer does it: the
// text (already space-prefixed and with spaces as U+2581) starts as one symbol per UTF-8
// character; the adjacent pair whose concatenation is a token with the highest score merges
// first (ties: the leftmost pair), until no pair is a token; a final symbol that is no token
// falls back to byte tokens.
#include <algorithm>
#include <queue>

#include "llm/unicode.h"
#include "llm/vocab.h"
#include "llm/vocab_merge.h"

namespace bf::llm {

namespace {

struct Symbol {
    int prev, next;
    size_t off, n;  // bytes of the text; n == 0 once merged into its left neighbour
};

struct Bigram {
    int left, right;
    float score;
    size_t size;  // bytes of the pair when queued: a later size mismatch means it is stale
};

struct Lower {  // priority: higher score first, then the leftmost pair
    bool operator()(const Bigram &a, const Bigram &b) const {
        return a.score < b.score || (a.score == b.score && a.left > b.left);
    }
};

}  // namespace

void Vocab::encode_spm(std::string_view text, std::vector<int> &out) const {
    std::vector<Symbol> sym;
    for (size_t off = 0; off < text.size();) {
        // The lead byte alone decides a symbol's length (clamped): invalid UTF-8 is not checked.
        const size_t n = std::min(unicode::utf8_len(uint8_t(text[off])), text.size() - off);
        const int i = int(sym.size());
        sym.push_back({i - 1, off + n == text.size() ? -1 : i + 1, off, n});
        off += n;
    }

    std::priority_queue<Bigram, std::vector<Bigram>, Lower> queue;
    auto try_add = [&](int l, int r) {
        if (l < 0 || r < 0) return;
        // Symbols stay contiguous in the text, so the pair is one slice of it.
        const std::string_view pair = text.substr(sym[l].off, sym[l].n + sym[r].n);
        const int id = find(pair);
        if (id < 0) return;
        queue.push({l, r, scores_[id], pair.size()});
    };
    merge_symbols(sym, queue, try_add);

    // llama.cpp also keeps a map from merged texts back to their halves to re-split a final
    // symbol that is no token; every merged symbol is a token, so only single characters reach
    // the fallback and the map is never used: here they go straight to byte tokens.
    for (int i = sym.empty() ? -1 : 0; i != -1; i = sym[i].next) {
        const std::string_view s = text.substr(sym[i].off, sym[i].n);
        const int id = find(s);
        if (id >= 0) { out.push_back(id); continue; }
        for (char c : s) {
            const int bt = byte_token_[uint8_t(c)];
            if (bt >= 0) out.push_back(bt);
            else if (unk_ >= 0) out.push_back(unk_);
        }
    }
}

}  // namespace bf::llm
