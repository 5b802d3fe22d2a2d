// Byte-level BPE encoding of one raw fragment, as llama.cpp does it for "gpt2" vocabularies:
//  1. pre-tokenize: split the text's code points into words with the family's regex, written
//     out by hand below (no regex engine). llama.cpp chains several regexes for some families:
//     each later one splits the pieces of the earlier one, and the text a regex does not match
//     stays a piece of its own (std::regex_iterator's gaps);
//  2. map every byte of a word to GPT-2's printable code point;
//  3. merge adjacent symbols (UTF-8 characters of the mapped word) by lowest merge rank, ties to
//     the leftmost pair;
//  4. emit each final symbol's token; a symbol that is no token emits the tokens of its single
//     bytes that are tokens (usually none).
#include <algorithm>
#include <queue>

#include "llm/unicode.h"
#include "llm/vocab.h"
#include "llm/vocab_merge.h"

namespace bf::llm {

namespace {

using unicode::kLetter;
using unicode::kNumber;
using unicode::kWhitespace;

constexpr uint32_t kOut = 0xFFFFFFFF;  // "code point" past the end of a piece

// One piece of the code point array being split; splitters append piece lengths to `out`.
struct Piece {
    const uint32_t *cp;
    size_t n;
    uint32_t at(size_t i) const { return i < n ? cp[i] : kOut; }
    // Flags; 0 past the end, which no pattern class matches.
    uint16_t fl(size_t i) const { return i < n ? unicode::flags(cp[i]) : 0; }
};

struct Emitter {
    std::vector<uint32_t> &out;
    size_t prev = 0;
    size_t to(size_t end) {  // piece [prev, end) if not empty; returns its length
        const size_t len = end - prev;
        if (len > 0) out.push_back(uint32_t(len));
        prev = end;
        return len;
    }
};

bool is_nl(uint32_t c) { return c == '\r' || c == '\n'; }

// 's|'t|'re|'ve|'m|'ll|'d at pos: the match length or 0. ci: case-insensitive (llama3 family;
// ASCII folding is enough, nothing else lowercases to these letters).
size_t contraction(const Piece &p, size_t pos, bool ci) {
    if (p.at(pos) != '\'' || pos + 1 >= p.n) return 0;
    auto low = [&](uint32_t c) { return (ci && c >= 'A' && c <= 'Z') ? c + 32 : c; };
    const uint32_t c1 = low(p.at(pos + 1));
    if (c1 == 's' || c1 == 't' || c1 == 'm' || c1 == 'd') return 2;
    if (pos + 2 >= p.n) return 0;
    const uint32_t c2 = low(p.at(pos + 2));
    if ((c1 == 'r' && c2 == 'e') || (c1 == 'v' && c2 == 'e') || (c1 == 'l' && c2 == 'l')) return 3;
    return 0;
}

// GPT-2: 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
void split_gpt2(const Piece &p, std::vector<uint32_t> &out) {
    Emitter e{out};
    for (size_t pos = 0; pos < p.n;) {
        const uint32_t c = p.at(pos);
        if (const size_t k = contraction(p, pos, false)) { pos += k; e.to(pos); continue; }
        // The class test looks past one optional leading space.
        uint16_t f = c == ' ' ? p.fl(pos + 1) : p.fl(pos);
        if (f & kLetter) {
            pos += c == ' ';
            while (p.fl(pos) & kLetter) pos++;
            e.to(pos);
            continue;
        }
        if (f & kNumber) {
            pos += c == ' ';
            while (p.fl(pos) & kNumber) pos++;
            e.to(pos);
            continue;
        }
        if (f && !(f & (kWhitespace | kLetter | kNumber))) {
            pos += c == ' ';
            while (f && !(f & (kWhitespace | kLetter | kNumber))) f = p.fl(++pos);
            e.to(pos);
            continue;
        }
        size_t ws = 0;
        while (p.fl(pos + ws) & kWhitespace) ws++;
        if (ws > 1 && pos + ws < p.n) { pos += ws - 1; e.to(pos); continue; }  // \s+(?!\S)
        if (ws > 0) { pos += ws; e.to(pos); continue; }                        // \s+
        e.to(++pos);  // matches nothing: a piece of its own
    }
}

// Llama 3 (max_digits 3) and Qwen2 (max_digits 1):
// (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,max}| ?[^\s\p{L}\p{N}]+[\r\n]*|
// \s*[\r\n]+|\s+(?!\S)|\s+
// llama.cpp runs Qwen2's regex through std::regex on a category-collapsed text; with every code
// point in exactly one class of this pattern, that yields the same words as this scan.
void split_llama3(const Piece &p, size_t max_digits, std::vector<uint32_t> &out) {
    Emitter e{out};
    for (size_t pos = 0; pos < p.n;) {
        const uint32_t c = p.at(pos);
        const uint16_t f = p.fl(pos);
        if (const size_t k = contraction(p, pos, true)) { pos += k; e.to(pos); continue; }
        if (!(is_nl(c) || (f & kNumber)) && ((f & kLetter) || (p.fl(pos + 1) & kLetter))) {
            pos++;  // a letter, or the one optional non-letter before letters
            while (p.fl(pos) & kLetter) pos++;
            e.to(pos);
            continue;
        }
        if (f & kNumber) {
            size_t start = pos;
            while (p.fl(pos) & kNumber) {
                if (++pos - start >= max_digits) { e.to(pos); start = pos; }
            }
            e.to(pos);
            continue;
        }
        uint16_t f2 = c == ' ' ? p.fl(pos + 1) : f;
        if (!(f2 & (kWhitespace | kLetter | kNumber)) && f) {
            pos += c == ' ';
            while (f2 && !(f2 & (kWhitespace | kLetter | kNumber))) f2 = p.fl(++pos);
            while (is_nl(p.at(pos))) pos++;
            e.to(pos);
            continue;
        }
        size_t ws = 0, last_nl = 0;
        while (p.fl(pos + ws) & kWhitespace) {
            if (is_nl(p.at(pos + ws))) last_nl = pos + ws + 1;
            ws++;
        }
        if (last_nl > 0) { pos = last_nl; e.to(pos); continue; }                // \s*[\r\n]+
        if (ws > 1 && pos + ws < p.n) { pos += ws - 1; e.to(pos); continue; }  // \s+(?!\S)
        if (ws > 0) { pos += ws; e.to(pos); continue; }                        // \s+
        e.to(++pos);
    }
}

// A one-class regex as llama.cpp's std::regex path applies it: matches and the gaps between
// them become pieces. exact == 0: runs of the class (X+); otherwise exactly `exact` in a row.
template <typename Pred>
void split_matches(const Piece &p, Pred in_class, size_t exact, std::vector<uint32_t> &out) {
    Emitter e{out};
    for (size_t pos = 0; pos < p.n;) {
        size_t k = 0;
        while (pos + k < p.n && in_class(p.cp[pos + k]) && (exact == 0 || k < exact)) k++;
        if (k == 0 || (exact != 0 && k < exact)) { pos++; continue; }
        e.to(pos);       // the gap before the match
        pos += k;
        e.to(pos);       // the match
    }
    e.to(p.n);
}

// \p{N} as std::regex sees it on llama.cpp's collapsed text.
bool is_number_cp(uint32_t c) { return unicode::flags(c) & kNumber; }
// [\p{P}\$\+<=>\^~\|] on the collapsed text: ASCII punctuation plus $+<=>^~| (not `), and above
// ASCII the code points of category P that are not White_Space.
bool is_default_punct(uint32_t c) {
    if (c < 0x80) {
        return (c >= 0x21 && c <= 0x2F && c != 0x24 && c != 0x2B) || c == ':' || c == ';' ||
               c == '?' || c == '@' || (c >= 0x5B && c <= 0x5D) || c == '_' || c == '{' || c == '}' ||
               c == '$' || c == '+' || c == '<' || c == '=' || c == '>' || c == '^' || c == '~' || c == '|';
    }
    const uint16_t f = unicode::flags(c);
    return (f & unicode::kPunctuation) && !(f & kWhitespace);
}
bool is_ascii_digit(uint32_t c) { return c >= '0' && c <= '9'; }

// Runs one splitting stage over every current piece.
template <typename Fn>
void stage(const std::vector<uint32_t> &cps, std::vector<uint32_t> &pieces, Fn fn) {
    std::vector<uint32_t> next;
    next.reserve(pieces.size() * 2);
    size_t start = 0;
    for (uint32_t len : pieces) {
        fn(Piece{cps.data() + start, len}, next);
        start += len;
    }
    pieces.swap(next);
}

struct Sym {
    int prev, next;
    size_t off, n;
};

struct Pair {
    int left, right;
    int rank;
    size_t size;
};

struct Later {  // priority: lowest rank first, then the leftmost pair
    bool operator()(const Pair &a, const Pair &b) const {
        return a.rank > b.rank || (a.rank == b.rank && a.left > b.left);
    }
};

}  // namespace

void Vocab::encode_bpe(std::string_view text, std::vector<int> &out) const {
    std::vector<uint32_t> cps;
    unicode::decode_utf8(text, cps);
    std::vector<uint32_t> pieces;
    if (!cps.empty()) pieces.push_back(uint32_t(cps.size()));
    auto gpt2 = [](const Piece &p, std::vector<uint32_t> &o) { split_gpt2(p, o); };
    switch (pre_) {
        case PreTokenizer::kGpt2: stage(cps, pieces, gpt2); break;
        case PreTokenizer::kLlama3:
            stage(cps, pieces, [](const Piece &p, std::vector<uint32_t> &o) { split_llama3(p, 3, o); });
            break;
        case PreTokenizer::kQwen2:
            stage(cps, pieces, [](const Piece &p, std::vector<uint32_t> &o) { split_llama3(p, 1, o); });
            break;
        case PreTokenizer::kStarcoder:
            stage(cps, pieces, [](const Piece &p, std::vector<uint32_t> &o) { split_matches(p, is_number_cp, 1, o); });
            stage(cps, pieces, gpt2);
            break;
        default:  // kDefault
            stage(cps, pieces, [](const Piece &p, std::vector<uint32_t> &o) { split_matches(p, is_default_punct, 0, o); });
            stage(cps, pieces, gpt2);
            stage(cps, pieces, [](const Piece &p, std::vector<uint32_t> &o) { split_matches(p, is_number_cp, 0, o); });
            stage(cps, pieces, [](const Piece &p, std::vector<uint32_t> &o) { split_matches(p, is_ascii_digit, 3, o); });
            break;
    }

    std::string word, utf8;
    std::vector<Sym> sym;
    std::priority_queue<Pair, std::vector<Pair>, Later> queue;
    size_t start = 0;
    for (uint32_t len : pieces) {
        // The word's bytes (code points re-encoded: a bad byte became U+FFFD), each byte as
        // the UTF-8 of its GPT-2 code point.
        word.clear();
        for (size_t i = start; i < start + len; i++) {
            utf8.clear();
            unicode::append_utf8(cps[i], utf8);
            for (char b : utf8) unicode::append_utf8(unicode::byte_to_cp(uint8_t(b)), word);
        }
        start += len;

        sym.clear();
        if (ignore_merges_ && find(word) >= 0) {
            sym.push_back({-1, -1, 0, word.size()});
        } else {
            for (size_t off = 0; off < word.size();) {
                const size_t n = std::min(unicode::utf8_len(uint8_t(word[off])), word.size() - off);
                const int i = int(sym.size());
                sym.push_back({i - 1, off + n == word.size() ? -1 : i + 1, off, n});
                off += n;
            }
        }
        const std::string_view w = word;
        auto try_add = [&](int l, int r) {
            if (l < 0 || r < 0) return;
            const int rank = merge_rank(w.substr(sym[l].off, sym[l].n), w.substr(sym[r].off, sym[r].n));
            if (rank >= 0) queue.push({l, r, rank, sym[l].n + sym[r].n});
        };
        merge_symbols(sym, queue, try_add);

        for (int i = sym.empty() ? -1 : 0; i != -1; i = sym[i].next) {
            const std::string_view s = w.substr(sym[i].off, sym[i].n);
            const int id = find(s);
            if (id >= 0) { out.push_back(id); continue; }
            for (char c : s)
                if (byte_token_[uint8_t(c)] >= 0) out.push_back(byte_token_[uint8_t(c)]);
        }
    }
}

}  // namespace bf::llm
