// llama2.c -> GGUF converter (see convert.h).
#include "convert.h"

#include <stdio.h>
#include <string.h>

#include "bareflow/vfs.h"
#include "fmt.h"
#include "gguf_write.h"
#include "jit/kernels/quant.h"
#include "loader.h"

namespace bf::llm {
namespace {

namespace q = kern::quant;

// llama.cpp's token types (llama_token_type).
enum TokenType : int32_t { kNormal = 1, kUnknown = 2, kControl = 3, kByte = 6 };

// ggml's general.file_type values (llama_ftype) for the types written here.
uint32_t file_type(uint32_t type) { return type == q::Q8_0 ? 7 : type == q::Q4_0 ? 2 : type == q::Q4_K ? 14 : 0; }

bool is_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F') || (c >= 'a' && c <= 'f'); }

// "<0xXX>": llama2.c's byte-fallback pieces, already in the text GGUF expects.
bool is_byte_piece(const std::string &s) {
    return s.size() == 6 && !s.compare(0, 3, "<0x") && is_hex(s[3]) && is_hex(s[4]) && s[5] == '>';
}

// SentencePiece's space marker: tokenizer.bin stores spaces, GGUF vocabularies store U+2581.
std::string escape_spaces(const std::string &s) {
    std::string out;
    for (char c : s) out += c == ' ' ? std::string("\xE2\x96\x81") : std::string(1, c);
    return out;
}

// The vocabulary as llama.cpp's converter writes it: ids 0-2 are <unk>, <s>, </s> whatever the
// file says (llama2.c stores "\n<s>\n" style text there); pieces keep their scores.
void add_vocab(gguf::Writer &w, const Tokenizer &tok) {
    std::vector<std::string> texts(size_t(tok.vocab_size));
    std::vector<int32_t> types(size_t(tok.vocab_size));
    for (int i = 0; i < tok.vocab_size; i++) {
        const std::string &t = tok.vocab[size_t(i)];
        std::string &out = texts[size_t(i)];
        int32_t &ty = types[size_t(i)];
        if (i == 0) out = "<unk>", ty = kUnknown;
        else if (i == kBosToken) out = "<s>", ty = kControl;
        else if (i == kEosToken) out = "</s>", ty = kControl;
        else if (t.empty()) ty = kControl;
        else if (is_byte_piece(t)) out = t, ty = kByte;
        else out = escape_spaces(t), ty = kNormal;
    }
    w.add_strings("tokenizer.ggml.tokens", texts);
    w.add_f32s("tokenizer.ggml.scores", tok.scores.data(), size_t(tok.vocab_size));
    w.add_i32s("tokenizer.ggml.token_type", types.data(), types.size());
    w.add_string("tokenizer.ggml.model", "llama");
}

// One tensor to write: its source floats (rows x cols, row-major) and its GGUF name and type.
struct Source {
    std::string name;
    const float *data;
    int64_t rows, cols;  // rows 0: a 1-D vector of cols values
    uint32_t type;
};

void add_matrix(std::vector<Source> &v, std::string name, const Matrix &m, uint32_t type, ConvertReport &rep) {
    uint32_t t = type;
    if (type == q::Q4_K && m.cols % q::QK_K && m.cols % q::QK5_0 == 0) {  // llama-quantize's fallback
        t = q::Q5_0;
        rep.q5_0.push_back(name);
    } else if (q::block_size(type) > 1 && m.cols % q::block_size(type)) {
        t = q::F32;
        rep.kept_f32.push_back(name);
    }
    v.push_back({std::move(name), m.f32(), m.rows, m.cols, t});
}

}  // namespace

bool parse_convert_type(std::string_view name, uint32_t &type) {
    if (name == "f32") type = q::F32;
    else if (name == "q8_0") type = q::Q8_0;
    else if (name == "q4_0") type = q::Q4_0;
    else if (name == "q4_k") type = q::Q4_K;
    else return false;
    return true;
}

bool convert_to_gguf(const Model &m, const Tokenizer &tok, uint32_t type, std::vector<uint8_t> &out,
                     std::string &err, ConvertReport *report, bool progress) {
    const Config &c = m.config;
    if (type != q::F32 && type != q::Q8_0 && type != q::Q4_0 && type != q::Q4_K) {
        err = fmt("convert: type %u is not one of f32, q8_0, q4_0, q4_k", type);
        return false;
    }
    if (tok.vocab_size != c.vocab_size || int(tok.scores.size()) != c.vocab_size || c.vocab_size < 3) {
        err = fmt("convert: the tokenizer has %d tokens, the model %d", tok.vocab_size, c.vocab_size);
        return false;
    }
    gguf::Writer w;
    add_vocab(w, tok);
    w.add_string("general.architecture", "llama");
    w.add_string("general.name", "llama");
    w.add_u32("tokenizer.ggml.unknown_token_id", 0);
    w.add_u32("tokenizer.ggml.bos_token_id", kBosToken);
    w.add_u32("tokenizer.ggml.eos_token_id", kEosToken);
    w.add_u32("tokenizer.ggml.seperator_token_id", 0xFFFFFFFFu);  // "none", as llama.cpp writes (sic)
    w.add_u32("tokenizer.ggml.padding_token_id", 0xFFFFFFFFu);
    w.add_bool("tokenizer.ggml.add_bos_token", true);  // run.c starts every prompt with BOS
    w.add_u32("llama.context_length", uint32_t(c.seq_len));
    w.add_u32("llama.embedding_length", uint32_t(c.dim));
    w.add_u32("llama.feed_forward_length", uint32_t(c.hidden_dim));
    w.add_u32("llama.attention.head_count", uint32_t(c.n_heads));
    w.add_u32("llama.attention.head_count_kv", uint32_t(c.n_kv_heads));
    w.add_u32("llama.block_count", uint32_t(c.n_layers));
    w.add_u32("llama.rope.dimension_count", uint32_t(c.head_size));
    w.add_f32("llama.attention.layer_norm_rms_epsilon", c.norm_eps);  // run.c's constants
    w.add_f32("llama.rope.freq_base", c.rope_theta);
    w.add_u32("general.alignment", w.alignment());
    w.add_u32("general.file_type", file_type(type));
    if (type != q::F32) w.add_u32("general.quantization_version", 2);  // ggml's GGML_QNT_VERSION

    // llama.cpp's converter order. run.c's w1/w2/w3 are ffn_gate/down/up. A shared classifier is
    // not written: model_gguf.cpp (like llama.cpp) ties a missing output.weight to token_embd.
    ConvertReport rep;
    const Weights &wt = m.weights;
    std::vector<Source> src;
    add_matrix(src, "token_embd.weight", wt.token_embedding, type, rep);
    src.push_back({"output_norm.weight", wt.rms_final_weight, 0, c.dim, q::F32});
    if (!c.shared_classifier) add_matrix(src, "output.weight", wt.wcls, type, rep);
    for (int l = 0; l < c.n_layers; l++) {
        const Layer &y = wt.layers[size_t(l)];
        const std::string b = "blk." + std::to_string(l) + ".";
        add_matrix(src, b + "attn_q.weight", y.wq, type, rep);
        add_matrix(src, b + "attn_k.weight", y.wk, type, rep);
        add_matrix(src, b + "attn_v.weight", y.wv, type, rep);
        add_matrix(src, b + "attn_output.weight", y.wo, type, rep);
        src.push_back({b + "attn_norm.weight", y.attn_norm, 0, c.dim, q::F32});
        add_matrix(src, b + "ffn_gate.weight", y.w1, type, rep);
        add_matrix(src, b + "ffn_down.weight", y.w2, type, rep);
        add_matrix(src, b + "ffn_up.weight", y.w3, type, rep);
        src.push_back({b + "ffn_norm.weight", y.ffn_norm, 0, c.dim, q::F32});
    }
    for (const Source &s : src) {
        const int64_t ne[2] = {s.cols, s.rows};
        if (w.add_tensor(s.name, s.type, s.rows ? 2 : 1, ne, err) < 0) return false;
    }
    std::vector<uint8_t> img;
    if (!w.image(img, err)) return false;
    for (size_t i = 0; i < src.size(); i++) {
        const Source &s = src[i];
        const int64_t rows = s.rows ? s.rows : 1;
        const uint64_t row_bytes = w.tensor_bytes(i) / uint64_t(rows);
        uint8_t *dst = w.tensor_data(img, i);
        for (int64_t r = 0; r < rows; r++)
            q::quantize_row_weights(s.type, s.data + r * s.cols, dst + uint64_t(r) * row_bytes, s.cols);
        if (progress)
            fprintf(stderr, "quantize: [%3zu/%zu] %-28s %-4s %lld x %lld\n", i + 1, src.size(), s.name.c_str(),
                    gguf::type_name(s.type), (long long)rows, (long long)s.cols);
    }
    if (report) {
        rep.n_tensors = int(src.size());
        *report = std::move(rep);
    }
    out = std::move(img);
    return true;
}

int run_quantize(const char *model, const char *tokenizer, const char *out_path, const char *type_name) {
    uint32_t type = 0;
    if (!model || !tokenizer || !out_path || !type_name || !parse_convert_type(type_name, type)) {
        fprintf(stderr, "usage: quantize MODEL.bin TOKENIZER.bin OUT.gguf f32|q8_0|q4_0|q4_k\n");
        return 2;
    }
    LoadedModel lm;
    std::string err;
    if (!load(model, tokenizer, lm, err)) {
        fprintf(stderr, "quantize: %s\n", err.c_str());
        return 1;
    }
    if (strcmp(lm.format, "llama2.c") != 0) {
        fprintf(stderr, "quantize: %s is a %s file: the converter reads llama2.c checkpoints\n", model, lm.format);
        return 1;
    }
    // Per-tensor lines only when a tensor takes noticeable time (a few hundred MB of weights).
    const bool progress = lm.model.n_params >= (uint64_t(1) << 26);
    std::vector<uint8_t> img;
    ConvertReport rep;
    if (!convert_to_gguf(lm.model, lm.tok, type, img, err, &rep, progress)) {
        fprintf(stderr, "quantize: %s\n", err.c_str());
        return 1;
    }
    if (const int rc = bf::vfs::write_atomic(out_path, img.data(), img.size()); rc != 0) {
        fprintf(stderr, "quantize: cannot write %s: %s\n", out_path, strerror(rc < 0 ? -rc : rc));
        return 1;
    }
    if (!rep.kept_f32.empty())
        fprintf(stderr, "quantize: %zu tensors stay f32: their rows are not a multiple of 32 values (first: %s)\n",
                rep.kept_f32.size(), rep.kept_f32[0].c_str());
    if (!rep.q5_0.empty())
        fprintf(stderr, "quantize: %zu tensors are q5_0: their rows are not a multiple of 256 values (first: %s)\n",
                rep.q5_0.size(), rep.q5_0[0].c_str());
    printf("quantize: wrote %s: %d tensors, %s, %zu bytes\n", out_path, rep.n_tensors, type_name, img.size());
    return 0;
}

}  // namespace bf::llm
