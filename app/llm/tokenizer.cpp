// llama2.c tokenizer: loading with validation, encode and decode as run.c does them.
#include "tokenizer.h"
#include "fmt.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <algorithm>
#include <queue>

namespace bf::llm {
namespace {


int32_t read_i32(const unsigned char *p) {
    int32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

}  // namespace

bool load_tokenizer(const void *data, size_t size, int vocab_size, Tokenizer &out,
                    std::string &err) {
    const unsigned char *p = static_cast<const unsigned char *>(data);
    if (vocab_size <= 0) {
        err = fmt("tokenizer: the model's vocabulary size %d is not positive", vocab_size);
        return false;
    }
    if (!p || size < 4) {
        err = fmt("tokenizer: file is %zu bytes, too short for max_token_length", p ? size : 0);
        return false;
    }
    const int32_t max_len = read_i32(p);
    if (max_len <= 0 || max_len > kMaxTokenLength) {
        err = fmt("tokenizer: max_token_length is %d (must be 1..%d)", max_len, kMaxTokenLength);
        return false;
    }
    // First pass: walk every entry to the end of the file, checking each against the file. A
    // malformed tail after the model's vocab_size entries is named as trailing bytes (a
    // tokenizer for a bigger vocabulary still parses whole and gets the count message).
    size_t off = 4, off_at_vocab = 0;
    int64_t count = 0;
    auto trailing = [&] {
        err = fmt("tokenizer: %zu trailing bytes after the last of the %d tokens (offset %zu)", size - off_at_vocab,
                  vocab_size, off_at_vocab);
        return false;
    };
    while (off < size) {
        if (count == vocab_size) off_at_vocab = off;
        if (size - off < 8) {
            if (count >= vocab_size) return trailing();
            err = fmt("tokenizer: token %lld: score and length run past the end of the file "
                      "(offset %zu, file %zu bytes)", (long long)count, off, size);
            return false;
        }
        const int32_t len = read_i32(p + off + 4);
        if (len < 0 || len > max_len) {
            if (count >= vocab_size) return trailing();
            err = fmt("tokenizer: token %lld: length %d is outside 0..max_token_length %d",
                      (long long)count, len, max_len);
            return false;
        }
        if (size_t(len) > size - off - 8) {
            if (count >= vocab_size) return trailing();
            err = fmt("tokenizer: token %lld: length %d runs past the end of the file (offset "
                      "%zu, file %zu bytes)", (long long)count, len, off + 8, size);
            return false;
        }
        float score;
        memcpy(&score, p + off, sizeof score);
        // A NaN score never wins a comparison: the merges it should take part in silently vanish.
        if (!isfinite(score) && count < vocab_size) {
            err = fmt("tokenizer: token %lld: score is not a finite number (%f)", (long long)count, double(score));
            return false;
        }
        off += 8 + size_t(len);
        count++;
    }
    if (count != vocab_size) {
        // More entries than the vocabulary: say where the model's part ends (appended bytes that
        // happen to parse as entries are still trailing bytes).
        const std::string extra =
            count > vocab_size ? fmt(" (%zu bytes after its %d tokens)", size - off_at_vocab, vocab_size) : "";
        err = fmt("tokenizer: has %lld tokens but the model's vocabulary is %d%s", (long long)count, vocab_size,
                  extra.c_str());
        return false;
    }
    Tokenizer t;
    t.vocab_size = vocab_size;
    t.max_token_length = max_len;
    t.vocab.resize(size_t(vocab_size));
    t.scores.resize(size_t(vocab_size));
    off = 4;
    for (int i = 0; i < vocab_size; i++) {
        memcpy(&t.scores[size_t(i)], p + off, sizeof(float));
        const size_t len = size_t(read_i32(p + off + 4));
        const char *s = reinterpret_cast<const char *>(p + off + 8);
        t.vocab[size_t(i)].assign(s, strnlen(s, len));  // C-string view, as run.c has it
        off += 8 + len;
    }
    t.sorted_ids.resize(size_t(vocab_size));
    for (int i = 0; i < vocab_size; i++) t.sorted_ids[size_t(i)] = i;
    // strcmp order (std::string compares bytes as unsigned char); equal strings by id.
    std::sort(t.sorted_ids.begin(), t.sorted_ids.end(), [&t](int a, int b) {
        const int c = t.vocab[size_t(a)].compare(t.vocab[size_t(b)]);
        return c < 0 || (c == 0 && a < b);
    });
    for (int i = 0; i < 256; i++) {
        t.byte_pieces[i * 2] = char(i);
        t.byte_pieces[i * 2 + 1] = '\0';
    }
    out = std::move(t);
    return true;
}

int Tokenizer::lookup(std::string_view s) const {
    auto it = std::lower_bound(sorted_ids.begin(), sorted_ids.end(), s,
                               [this](int id, std::string_view key) {
                                   return std::string_view(vocab[size_t(id)]) < key;
                               });
    if (it != sorted_ids.end() && vocab[size_t(*it)] == s) return *it;
    return -1;
}

// run.c merges, again and again, the adjacent pair whose joined string is the best-scoring
// token (the leftmost of equal scores; scores at or below -1e10 never merge), rescanning the
// whole sequence each time: quadratic, minutes for a 100 KB prompt. The same choices in
// n log n, as llama.cpp's tokenizers do: the tokens in a doubly linked list, every adjacent pair
// that forms a token in a priority queue ordered by (score desc, left position asc) -- the list
// keeps the original order, so an index is a position. A merge bumps its left symbol's version;
// a queued pair whose sides' versions moved on (or whose right side merged away) is stale and
// skipped. (vocab_merge.h's loop detects staleness by text length, which an empty-string token
// of a llama2.c file would fool: hence the versions here.)
void Tokenizer::merge_pairs(std::vector<int> &tokens, size_t first) const {
    if (tokens.size() < first + 2) return;
    struct Sym {
        int prev, next;
        int id;
        uint32_t version;  // bumped by each merge into this symbol; ~0u: merged away
    };
    struct Pair {
        float score;
        int left, right, id;
        uint32_t lv, rv;
    };
    struct Lower {  // the top is the best score, then the leftmost pair
        bool operator()(const Pair &a, const Pair &b) const {
            return a.score < b.score || (a.score == b.score && a.left > b.left);
        }
    };
    const int n = int(tokens.size() - first);
    std::vector<Sym> sym(static_cast<size_t>(n));
    for (int i = 0; i < n; i++) sym[size_t(i)] = {i - 1, i + 1 < n ? i + 1 : -1, tokens[first + size_t(i)], 0};
    std::priority_queue<Pair, std::vector<Pair>, Lower> queue;
    std::string joined;
    auto try_add = [&](int l, int r) {
        if (l < 0 || r < 0) return;
        const int a = sym[size_t(l)].id, b = sym[size_t(r)].id;
        if (a < 0 || a >= vocab_size || b < 0 || b >= vocab_size) return;
        joined.assign(vocab[size_t(a)]);
        joined.append(vocab[size_t(b)]);
        const int id = lookup(joined);
        if (id == -1 || !(scores[size_t(id)] > -1e10f)) return;  // run.c's best_score starts at -1e10
        queue.push({scores[size_t(id)], l, r, id, sym[size_t(l)].version, sym[size_t(r)].version});
    };
    for (int i = 0; i + 1 < n; i++) try_add(i, i + 1);
    while (!queue.empty()) {
        const Pair p = queue.top();
        queue.pop();
        Sym &l = sym[size_t(p.left)], &r = sym[size_t(p.right)];
        if (l.version != p.lv || r.version != p.rv || l.next != p.right) continue;
        l.id = p.id;
        l.version++;
        r.version = ~0u;
        l.next = r.next;
        if (r.next >= 0) sym[size_t(r.next)].prev = p.left;
        try_add(l.prev, p.left);
        try_add(p.left, l.next);
    }
    tokens.resize(first);
    for (int i = 0; i != -1; i = sym[size_t(i)].next) tokens.push_back(sym[size_t(i)].id);
}

std::vector<int> Tokenizer::encode(std::string_view text, bool bos, bool eos) const {
    const size_t nul = text.find('\0');
    if (nul != std::string_view::npos) text = text.substr(0, nul);
    std::vector<int> tokens;
    tokens.reserve(text.size() + 3);
    if (bos) tokens.push_back(kBosToken);
    // sentencepiece's add_dummy_prefix: a " " token before non-empty text.
    if (!text.empty()) {
        const int dummy = lookup(" ");
        if (dummy != -1) tokens.push_back(dummy);
    }
    // Code points first (a UTF-8 lead byte and up to 3 continuation bytes), each looked up
    // whole, else spelled as byte tokens.
    std::string buf;
    for (size_t i = 0; i < text.size(); i++) {
        const unsigned char c = static_cast<unsigned char>(text[i]);
        if ((c & 0xC0) != 0x80) buf.clear();
        buf.push_back(char(c));
        const unsigned char next = i + 1 < text.size() ? static_cast<unsigned char>(text[i + 1]) : 0;
        if ((next & 0xC0) == 0x80 && buf.size() < 4) continue;
        const int id = lookup(buf);
        if (id != -1) {
            tokens.push_back(id);
        } else {
            for (char b : buf) {
                const int byte_id = int(static_cast<unsigned char>(b)) + 3;
                tokens.push_back(byte_id < vocab_size ? byte_id : 0);
            }
        }
        buf.clear();
    }
    merge_pairs(tokens, bos ? 1 : 0);
    if (eos) tokens.push_back(kEosToken);
    return tokens;
}

const char *Tokenizer::decode(int prev, int token) const {
    if (token < 0 || token >= vocab_size) return "";
    const char *piece = vocab[size_t(token)].c_str();
    if (prev == kBosToken && piece[0] == ' ') piece++;  // sentencepiece strips it after BOS
    // Raw-byte tokens "<0xXX>" (run.c: sscanf(piece, "<0x%02hhX>", ...) == 1): one or two hex
    // digits after "<0x" (the whitespace/sign forms sscanf would also take are not accepted).
    if (piece[0] == '<' && piece[1] == '0' && piece[2] == 'x') {
        const int h0 = hex_digit(piece[3]);
        if (h0 >= 0) {
            const int h1 = hex_digit(piece[4]);
            const int byte = h1 >= 0 ? h0 * 16 + h1 : h0;
            return byte_pieces + byte * 2;
        }
    }
    return piece;
}

bool piece_is_printable(const char *piece) {
    if (!piece || piece[0] == '\0') return false;
    if (piece[1] == '\0') {
        const unsigned char b = static_cast<unsigned char>(piece[0]);
        const bool print = b >= 0x20 && b <= 0x7e;                // isprint, C locale
        const bool space = b == ' ' || (b >= '\t' && b <= '\r');  // isspace, C locale
        if (!print && !space) return false;
    }
    return true;
}

}  // namespace bf::llm
