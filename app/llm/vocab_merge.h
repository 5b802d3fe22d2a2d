// The merge loop SentencePiece and BPE share (vocab_spm.cpp, vocab_bpe.cpp): adjacent symbols of
// a word in a doubly linked list, candidate pairs in a priority queue (best score or lowest rank
// first, as the caller's queue orders them); the best pair merges into its left symbol, and the
// new neighbours are queued. A queued pair whose sides changed since is stale: symbols only grow
// to the right, so equal sizes mean equal texts (llama.cpp compares the texts).
#pragma once
#include <vector>

namespace bf::llm {

// Sym: {int prev, next; size_t n} (n = 0: merged away); a queue entry: {int left, right; size_t size}.
// try_add(l, r) queues the pair (l, r) if it may merge (l or r may be -1).
template <typename Sym, typename Queue, typename TryAdd>
void merge_symbols(std::vector<Sym> &sym, Queue &queue, TryAdd try_add) {
    for (int i = 1; i < int(sym.size()); i++) try_add(i - 1, i);
    while (!queue.empty()) {
        const auto b = queue.top();
        queue.pop();
        Sym &l = sym[b.left];
        Sym &r = sym[b.right];
        if (l.n == 0 || r.n == 0 || size_t(l.n + r.n) != size_t(b.size)) continue;
        l.n += r.n;
        r.n = 0;
        l.next = r.next;
        if (r.next >= 0) sym[r.next].prev = b.left;
        try_add(l.prev, b.left);
        try_add(b.left, l.next);
    }
}

}  // namespace bf::llm
