// Loading a GGUF vocabulary (tokenizer.ggml.*) with every value checked, token lookup, pieces,
// user-defined token partitioning and decoding. The two encoders are vocab_spm.cpp and
// vocab_bpe.cpp. Behaviour follows llama.cpp's llama-vocab.cpp (defaults per kind, byte
// fallback, piece rules) so ids agree with its tokenizer; deviations are noted where they are.
#include "llm/vocab.h"

#include <math.h>
#include <stdio.h>

#include <algorithm>

#include "llm/unicode.h"

namespace bf::llm {

namespace {

constexpr uint64_t kFnvBasis = 1469598103934665603ull;
constexpr uint64_t kFnvPrime = 1099511628211ull;
uint64_t fnv(std::string_view s, uint64_t h = kFnvBasis) {
    for (char c : s) h = (h ^ uint8_t(c)) * kFnvPrime;
    return h;
}
size_t table_size(size_t n) {
    size_t s = 16;
    while (s < 2 * n) s <<= 1;
    return s;
}

// The most tokens/merges accepted: far above any real vocabulary (~260K), low enough that ids
// and offsets stay well inside int32/uint32.
constexpr uint64_t kMaxTokens = 1u << 24;
constexpr uint64_t kMaxMerges = 1u << 24;

// A token text for an error message: at most 40 bytes, non-printable bytes as \xNN.
std::string quote(std::string_view s) {
    std::string q = "'";
    for (size_t i = 0; i < s.size() && i < 40; i++) {
        const uint8_t c = uint8_t(s[i]);
        if (c >= 0x20 && c < 0x7F && c != '\\') {
            q.push_back(char(c));
        } else {
            char b[8];
            snprintf(b, sizeof b, "\\x%02X", c);
            q += b;
        }
    }
    if (s.size() > 40) q += "...";
    return q + "'";
}

std::string str(uint64_t v) { return std::to_string(v); }

bool fail(std::string &err, const std::string &msg) {
    err = "vocab: " + msg;
    return false;
}

bool is_byte_token_text(std::string_view t, uint8_t &b) {
    auto hex = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        return -1;
    };
    if (t.size() != 6 || t.substr(0, 3) != "<0x" || t[5] != '>') return false;
    const int hi = hex(t[3]), lo = hex(t[4]);
    if (hi < 0 || lo < 0) return false;
    b = uint8_t(hi << 4 | lo);
    return true;
}

const char kSpace[] = "\xE2\x96\x81";  // U+2581, SentencePiece's visible space

}  // namespace

// Reads one kind of value each, with "missing is fine" semantics and messages naming the key.
struct VocabLoader {
    const gguf::File &f;
    std::string &err;

    const gguf::KeyValue *find(const char *key) const { return f.find(key); }

    bool opt_string(const char *key, std::string_view &out, bool &present) {
        const gguf::KeyValue *kv = find(key);
        present = kv != nullptr;
        if (!kv) return true;
        if (kv->value.type != gguf::ValueType::String)
            return fail(err, std::string(key) + " is a " + gguf::value_type_name(kv->value.type) +
                                 ", expected a string");
        return f.get_string(key, out);
    }
    bool opt_bool(const char *key, bool &out) {
        const gguf::KeyValue *kv = find(key);
        if (!kv) return true;
        if (kv->value.type != gguf::ValueType::Bool)
            return fail(err, std::string(key) + " is a " + gguf::value_type_name(kv->value.type) +
                                 ", expected a bool");
        return f.get_bool(key, out);
    }
    // A token id: any integer type. -1 and 0xFFFFFFFF mean "none" (llama.cpp's converters write
    // them for absent tokens); anything else outside [0, n) is refused.
    bool opt_id(const char *key, int n, int &id) {
        const gguf::KeyValue *kv = find(key);
        if (!kv) return true;
        int64_t v = 0;
        if (!f.get_int(key, v))
            return fail(err, std::string(key) + " is a " + gguf::value_type_name(kv->value.type) +
                                 (kv->value.type == gguf::ValueType::U64 ? " too large" : "") +
                                 ", expected an integer token id");
        if (v == -1 || v == 0xFFFFFFFFll) { id = -1; return true; }
        if (v < 0 || v >= n)
            return fail(err, std::string(key) + " = " + std::to_string(v) + " is out of range (" +
                                 str(n) + " tokens)");
        id = int(v);
        return true;
    }
    bool array(const char *key, bool required, gguf::Array &a, bool &present) {
        const gguf::KeyValue *kv = find(key);
        present = kv != nullptr;
        if (!kv) return required ? fail(err, std::string(key) + " is missing") : true;
        if (kv->value.type != gguf::ValueType::Array)
            return fail(err, std::string(key) + " is a " + gguf::value_type_name(kv->value.type) +
                                 ", expected an array");
        return f.get_array(key, a);
    }
    bool elem_type(const char *key, const gguf::Array &a, gguf::ValueType t1, gguf::ValueType t2) {
        if (a.elem_type == t1 || a.elem_type == t2) return true;
        return fail(err, std::string(key) + " is an array of " + gguf::value_type_name(a.elem_type) +
                             ", expected " + gguf::value_type_name(t1));
    }
};

static PreTokenizer pre_from_name(std::string_view n, bool &known) {
    known = true;
    if (n == "default") return PreTokenizer::kDefault;
    if (n == "gpt-2" || n == "phi-2" || n == "mpt" || n == "olmo") return PreTokenizer::kGpt2;
    if (n == "llama3" || n == "llama-v3" || n == "llama-bpe" || n == "falcon3") return PreTokenizer::kLlama3;
    if (n == "qwen2" || n == "deepseek-r1-qwen") return PreTokenizer::kQwen2;
    if (n == "starcoder" || n == "refact" || n == "smollm" || n == "codeshell" || n == "command-r")
        return PreTokenizer::kStarcoder;
    known = false;
    return PreTokenizer::kNone;
}

const char *pre_tokenizer_name(PreTokenizer p) {
    switch (p) {
        case PreTokenizer::kNone: return "none";
        case PreTokenizer::kDefault: return "default";
        case PreTokenizer::kGpt2: return "gpt-2";
        case PreTokenizer::kLlama3: return "llama3";
        case PreTokenizer::kQwen2: return "qwen2";
        case PreTokenizer::kStarcoder: return "starcoder";
    }
    return "?";
}

bool load_vocab(const gguf::File &f, Vocab &out, std::string &err) {
    out = Vocab();
    VocabLoader L{f, err};
    Vocab &v = out;

    // ---- kind and pre-tokenizer ----
    std::string_view model, pre_name;
    bool present = false, pre_present = false;
    if (!L.opt_string("tokenizer.ggml.model", model, present)) return false;
    if (!present) return fail(err, "tokenizer.ggml.model is missing");
    if (!L.opt_string("tokenizer.ggml.pre", pre_name, pre_present)) return false;
    if (model == "llama") {
        v.kind_ = VocabKind::kSpm;
        v.pre_ = PreTokenizer::kNone;  // SPM ignores tokenizer.ggml.pre, as llama.cpp does
        v.bos_ = 1; v.eos_ = 2; v.unk_ = 0;
        v.add_bos_ = true; v.add_space_prefix_ = true;
    } else if (model == "gpt2") {
        v.kind_ = VocabKind::kBpe;
        v.bos_ = 11; v.eos_ = 11;  // llama.cpp's defaults for BPE
        if (!pre_present || pre_name.empty()) {
            v.pre_ = PreTokenizer::kDefault;  // llama.cpp warns and uses "default"
        } else {
            bool known = false;
            v.pre_ = pre_from_name(pre_name, known);
            if (!known)
                return fail(err, "tokenizer.ggml.pre " + quote(pre_name) +
                                     " is not supported (default, gpt-2, mpt, llama3, llama-bpe, "
                                     "qwen2, starcoder, refact, smollm, ...)");
        }
        if (v.pre_ == PreTokenizer::kLlama3) { v.ignore_merges_ = true; v.add_bos_ = true; }
    } else {
        return fail(err, "tokenizer.ggml.model " + quote(model) + " is not supported (llama, gpt2)");
    }
    if (!L.opt_bool("tokenizer.ggml.add_space_prefix", v.add_space_prefix_)) return false;

    // ---- tokens ----
    gguf::Array toks;
    if (!L.array("tokenizer.ggml.tokens", true, toks, present)) return false;
    if (!L.elem_type("tokenizer.ggml.tokens", toks, gguf::ValueType::String, gguf::ValueType::String))
        return false;
    if (toks.count == 0) return fail(err, "tokenizer.ggml.tokens is empty");
    if (toks.count > kMaxTokens)
        return fail(err, "tokenizer.ggml.tokens has " + str(toks.count) + " entries (at most " +
                             str(kMaxTokens) + ")");
    const int n = int(toks.count);
    v.text_off_.reserve(n + 1);
    v.text_off_.push_back(0);
    {
        gguf::StringCursor cur = toks.strings();
        std::string_view s;
        for (int i = 0; i < n; i++) {
            if (!cur.next(s)) return fail(err, "tokenizer.ggml.tokens ends early");
            if (s.empty()) {
                v.texts_ += "[EMPTY_" + std::to_string(i) + "]";  // llama.cpp's stand-in
            } else {
                v.texts_.append(s.data(), s.size());
            }
            if (v.texts_.size() > 0xFFFFFFFFu) return fail(err, "tokenizer.ggml.tokens is too large");
            v.text_off_.push_back(uint32_t(v.texts_.size()));
        }
    }
    v.token_hash_.assign(table_size(n), -1);
    const size_t tmask = v.token_hash_.size() - 1;
    for (int i = 0; i < n; i++) {
        const std::string_view t = v.text(i);
        size_t h = fnv(t) & tmask;
        while (v.token_hash_[h] >= 0) {
            if (v.text(v.token_hash_[h]) == t)
                return fail(err, "tokenizer.ggml.tokens has " + quote(t) + " twice (ids " +
                                     str(v.token_hash_[h]) + " and " + str(i) + ")");
            h = (h + 1) & tmask;
        }
        v.token_hash_[h] = i;
    }

    // ---- scores and types ----
    v.scores_.assign(n, 0.0f);
    v.types_.assign(n, TokenType::kNormal);
    gguf::Array a;
    if (!L.array("tokenizer.ggml.scores", false, a, present)) return false;
    if (present) {
        if (!L.elem_type("tokenizer.ggml.scores", a, gguf::ValueType::F32, gguf::ValueType::I32)) return false;
        if (a.count != uint64_t(n))
            return fail(err, "tokenizer.ggml.scores has " + str(a.count) + " entries, expected " + str(n));
        for (int i = 0; i < n; i++) {
            float s = 0;
            int32_t si = 0;
            if (a.elem_type == gguf::ValueType::F32) a.get_f32(i, s); else { a.get_i32(i, si); s = float(si); }
            if (isnan(s)) return fail(err, "tokenizer.ggml.scores[" + str(i) + "] is NaN");
            v.scores_[i] = s;
        }
    }
    if (!L.array("tokenizer.ggml.token_type", false, a, present)) return false;
    if (present) {
        if (!L.elem_type("tokenizer.ggml.token_type", a, gguf::ValueType::I32, gguf::ValueType::I32)) return false;
        if (a.count != uint64_t(n))
            return fail(err, "tokenizer.ggml.token_type has " + str(a.count) + " entries, expected " + str(n));
        for (int i = 0; i < n; i++) {
            int32_t t = 0;
            a.get_i32(i, t);
            if (t < 0 || t > 6)
                return fail(err, "tokenizer.ggml.token_type[" + str(i) + "] = " + std::to_string(t) +
                                     " is not a token type (0..6)");
            uint8_t b;
            if (TokenType(t) == TokenType::kByte && !is_byte_token_text(v.text(i), b))
                return fail(err, "token " + str(i) + " " + quote(v.text(i)) +
                                     " has type BYTE but is not <0xXX>");
            v.types_[i] = TokenType(t);
        }
    }

    // ---- merges (BPE) ----
    if (v.kind_ == VocabKind::kBpe) {
        if (!L.array("tokenizer.ggml.merges", true, a, present)) return false;
        if (!L.elem_type("tokenizer.ggml.merges", a, gguf::ValueType::String, gguf::ValueType::String))
            return false;
        if (a.count > kMaxMerges)
            return fail(err, "tokenizer.ggml.merges has " + str(a.count) + " entries (at most " +
                                 str(kMaxMerges) + ")");
        v.merge_hash_.assign(table_size(a.count), -1);
        const size_t mmask = v.merge_hash_.size() - 1;
        v.merge_off_.push_back(0);
        gguf::StringCursor cur = a.strings();
        std::string_view s;
        for (uint64_t i = 0; i < a.count; i++) {
            if (!cur.next(s)) return fail(err, "tokenizer.ggml.merges ends early");
            // "first second", split at the first space after the first byte (a merge of a
            // space token with something stays splittable). A line without one never matches.
            const size_t sp = s.size() > 1 ? s.find(' ', 1) : std::string_view::npos;
            const int rank = int(v.merge_split_.size());
            if (sp != std::string_view::npos) {
                // Keep the lowest rank of a pair listed twice (llama.cpp's map emplace does).
                if (v.merge_rank(s.substr(0, sp), s.substr(sp + 1)) >= 0) continue;
                v.merges_.append(s.data(), s.size());
                if (v.merges_.size() > 0xFFFFFFFFu) return fail(err, "tokenizer.ggml.merges is too large");
                v.merge_off_.push_back(uint32_t(v.merges_.size()));
                v.merge_split_.push_back(uint32_t(sp));
                size_t h = fnv(s) & mmask;
                while (v.merge_hash_[h] >= 0) h = (h + 1) & mmask;
                v.merge_hash_[h] = rank;
            }
        }
    }

    // ---- special ids and flags ----
    for (int *id : {&v.bos_, &v.eos_, &v.unk_})
        if (*id >= n) *id = -1;  // a default outside the vocabulary is disabled (llama.cpp)
    if (!L.opt_id("tokenizer.ggml.bos_token_id", n, v.bos_)) return false;
    if (!L.opt_id("tokenizer.ggml.eos_token_id", n, v.eos_)) return false;
    if (!L.opt_id("tokenizer.ggml.eot_token_id", n, v.eot_)) return false;
    if (!L.opt_id("tokenizer.ggml.unknown_token_id", n, v.unk_)) return false;
    if (!L.opt_id("tokenizer.ggml.padding_token_id", n, v.pad_)) return false;
    if (!L.opt_bool("tokenizer.ggml.add_bos_token", v.add_bos_)) return false;
    if (!L.opt_bool("tokenizer.ggml.add_eos_token", v.add_eos_)) return false;
    if (v.add_bos_ && v.bos_ < 0)
        return fail(err, "tokenizer.ggml.add_bos_token is true, but there is no BOS token");
    if (v.add_eos_ && v.eos_ < 0)
        return fail(err, "tokenizer.ggml.add_eos_token is true, but there is no EOS token");
    if (v.eot_ < 0 && !f.find("tokenizer.ggml.eot_token_id")) {
        // llama.cpp finds EOT by its text when the key is absent, and makes it a control token.
        for (const char *t : {"<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>",
                              "<|end_of_text|>", "<EOT>"}) {
            const int id = v.find(t);
            if (id >= 0) {
                v.eot_ = id;
                if (v.types_[id] != TokenType::kControl && v.types_[id] != TokenType::kUserDefined &&
                    v.types_[id] != TokenType::kUnknown)
                    v.types_[id] = TokenType::kControl;
                break;
            }
        }
    }

    // ---- byte fallback ----
    // SPM: <0xXX>, else the byte as a one-byte token (llama.cpp's byte_to_token), else -1 (the
    // encoder then uses unk; llama.cpp would throw). BPE: the raw byte as a one-byte token, the
    // lookup llama.cpp makes for a final symbol that is no token (found ones only are emitted).
    for (int b = 0; b < 256; b++) {
        char hex[7];
        snprintf(hex, sizeof hex, "<0x%02X>", b);
        const char one[1] = {char(b)};
        int id = v.kind_ == VocabKind::kSpm ? v.find(hex) : -1;
        if (id < 0) id = v.find(std::string_view(one, 1));
        v.byte_token_[b] = id;
    }

    // ---- special tokens (matched in the text before encoding), strip flags ----
    v.strip_.assign(n, 0);
    for (int i = 0; i < n; i++) {
        const TokenType t = v.types_[i];
        if ((t == TokenType::kUserDefined || t == TokenType::kControl || t == TokenType::kUnknown) &&
            !v.text(i).empty())
            v.special_.push_back(i);
    }
    std::sort(v.special_.begin(), v.special_.end(), [&](int x, int y) {
        const size_t lx = v.text(x).size(), ly = v.text(y).size();
        return lx > ly || (lx == ly && x < y);  // llama.cpp leaves ties unordered
    });
    std::string_view name;
    if (!L.opt_string("general.name", name, present)) return false;
    std::string lname(name);
    for (char &c : lname) c = (c >= 'A' && c <= 'Z') ? char(c + 32) : c;
    if (lname.find("phi-3") != std::string::npos || lname.find("phi3") != std::string::npos) {
        // llama.cpp: Phi-3's special tokens eat the whitespace after them, except these three.
        for (int i = 0; i < n; i++) {
            const TokenType t = v.types_[i];
            if (t == TokenType::kControl || t == TokenType::kUserDefined || t == TokenType::kUnknown)
                v.strip_[i] |= 2;
        }
        if (int id = v.find("</s>"); id >= 0) v.strip_[id] |= 2;
        for (const char *t : {"<unk>", "<s>", "<|endoftext|>"})
            if (int id = v.find(t); id >= 0) v.strip_[id] &= ~2;
    }

    // ---- pieces ----
    v.piece_off_.reserve(n + 1);
    v.piece_off_.push_back(0);
    std::vector<uint32_t> cps;
    for (int i = 0; i < n; i++) {
        const std::string_view t = v.text(i);
        switch (v.types_[i]) {
            case TokenType::kUserDefined: v.pieces_.append(t.data(), t.size()); break;
            case TokenType::kByte: {
                uint8_t b = 0;
                is_byte_token_text(t, b);
                v.pieces_.push_back(char(b));
                break;
            }
            case TokenType::kNormal:
                if (v.kind_ == VocabKind::kSpm) {
                    for (size_t k = 0; k < t.size();) {
                        if (t.substr(k, 3) == kSpace) { v.pieces_.push_back(' '); k += 3; }
                        else v.pieces_.push_back(t[k++]);
                    }
                } else {
                    cps.clear();
                    unicode::decode_utf8(t, cps);
                    for (uint32_t cp : cps) {
                        const int b = unicode::cp_to_byte(cp);
                        if (b >= 0) { v.pieces_.push_back(char(b)); continue; }
                        // llama.cpp's marker for a code point that stands for no byte.
                        std::string u;
                        unicode::append_utf8(cp, u);
                        v.pieces_ += "[UNK_BYTE_0x";
                        for (char c : u) { char h[3]; snprintf(h, sizeof h, "%02x", uint8_t(c)); v.pieces_ += h; }
                        v.pieces_.append(t.data(), t.size());
                        v.pieces_ += "]";
                    }
                }
                break;
            default: break;  // control, unknown, unused, undefined: print nothing
        }
        if (v.pieces_.size() > 0xFFFFFFFFu) return fail(err, "token pieces are too large");
        v.piece_off_.push_back(uint32_t(v.pieces_.size()));
    }
    err.clear();
    return true;
}

int Vocab::find(std::string_view t) const {
    if (token_hash_.empty()) return -1;
    const size_t mask = token_hash_.size() - 1;
    for (size_t h = fnv(t) & mask;; h = (h + 1) & mask) {
        const int id = token_hash_[h];
        if (id < 0) return -1;
        if (text(id) == t) return id;
    }
}

std::string_view Vocab::text(int id) const {
    // Bounded by the offsets, not n_tokens(): the loader looks texts up before types_ exists.
    if (id < 0 || size_t(id) + 1 >= text_off_.size()) return {};
    return std::string_view(texts_).substr(text_off_[id], text_off_[id + 1] - text_off_[id]);
}

TokenType Vocab::type(int id) const {
    return (id < 0 || id >= n_tokens()) ? TokenType::kUndefined : types_[id];
}

float Vocab::score(int id) const { return (id < 0 || id >= n_tokens()) ? 0.0f : scores_[id]; }

int Vocab::merge_rank(std::string_view l, std::string_view r) const {
    if (merge_hash_.empty()) return -1;
    const size_t mask = merge_hash_.size() - 1;
    const uint64_t h0 = fnv(r, fnv(" ", fnv(l)));  // the hash of "l r"
    for (size_t h = h0 & mask;; h = (h + 1) & mask) {
        const int rank = merge_hash_[h];
        if (rank < 0) return -1;
        const std::string_view m = std::string_view(merges_).substr(
            merge_off_[rank], merge_off_[rank + 1] - merge_off_[rank]);
        const size_t sp = merge_split_[rank];
        if (sp == l.size() && m.size() == l.size() + 1 + r.size() && m.substr(0, sp) == l &&
            m.substr(sp + 1) == r)
            return rank;
    }
}

std::string_view Vocab::piece(int id) const {
    if (id < 0 || id >= n_tokens()) return {};
    return std::string_view(pieces_).substr(piece_off_[id], piece_off_[id + 1] - piece_off_[id]);
}

void Vocab::decode(const int *ids, size_t n, std::string &out, bool strip_space_prefix) const {
    bool strip = strip_space_prefix && add_space_prefix_;
    for (size_t i = 0; i < n; i++) {
        std::string_view p = piece(ids[i]);
        if (strip && !p.empty() && p[0] == ' ') p.remove_prefix(1);
        strip = false;
        out.append(p.data(), p.size());
    }
}

// llama.cpp's tokenizer_st_partition: user-defined tokens (and with parse_special control and
// unknown ones too), longest first, are cut out of the raw text wherever they occur; lstrip/rstrip
// tokens also take the whitespace (C isspace) next to them.
void Vocab::partition(std::string_view text, bool parse_special, std::vector<Fragment> &out) const {
    out.clear();
    out.push_back({-1, 0, text.size()});
    std::vector<Fragment> next;
    auto is_space = [](char c) { return c == ' ' || (c >= '\t' && c <= '\r'); };
    for (int id : special_) {
        if (!parse_special && types_[size_t(id)] != TokenType::kUserDefined) continue;
        const std::string_view t = this->text(id);
        next.clear();
        for (const Fragment &fr : out) {
            if (fr.token >= 0) { next.push_back(fr); continue; }
            size_t off = fr.off, len = fr.len;
            while (len > 0) {
                const size_t m = text.substr(off, len).find(t);
                if (m == std::string_view::npos) { next.push_back({-1, off, len}); break; }
                size_t left = m;
                if (strip_[id] & 1)
                    while (left > 0 && is_space(text[off + left - 1])) left--;
                if (left > 0) next.push_back({-1, off, left});
                next.push_back({id, 0, 0});
                size_t roff = off + m + t.size(), rlen = len - m - t.size();
                if (strip_[id] & 2)
                    while (rlen > 0 && is_space(text[roff])) { roff++; rlen--; }
                off = roff;
                len = rlen;
            }
        }
        out.swap(next);
    }
}

void Vocab::encode(std::string_view text, std::vector<int> &out, bool parse_special) const {
    if (text.empty() || types_.empty()) return;
    std::vector<Fragment> frags;
    partition(text, parse_special, frags);
    bool prev_special = true;  // SPM: the space prefix goes before the first raw fragment
    for (const Fragment &fr : frags) {
        if (fr.token >= 0) {
            out.push_back(fr.token);
            prev_special = true;
            continue;
        }
        const std::string_view raw = text.substr(fr.off, fr.len);
        if (kind_ == VocabKind::kSpm) {
            std::string s;
            s.reserve(raw.size() * 3 + 3);
            if (add_space_prefix_ && prev_special) s += kSpace;
            for (char c : raw) {
                if (c == ' ') s += kSpace; else s.push_back(c);
            }
            encode_spm(s, out);
        } else {
            encode_bpe(raw, out);
        }
        prev_special = false;
    }
}

}  // namespace bf::llm
