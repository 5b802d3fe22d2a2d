// The model loader (loader.h): sniff the format, read the file once, hand it to the format's reader.
#include "loader.h"

#include "generate.h"
#include "model_gguf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysinfo.h>

#include <chrono>

namespace bf::llm {
namespace {

// A progress line on stderr while a large model is read (a USB stick reads 5-80 MB/s: a model of
// a few hundred MB takes a while): percent, MB, MB/s, time left; redrawn at most 4 times a second.
struct Progress {
    const char *path;
    std::chrono::steady_clock::time_point start, last;
};

void show_progress(size_t done, size_t total, void *ctx) {
    constexpr size_t kQuiet = size_t(32) << 20;  // smaller files are read before anyone notices
    if (total < kQuiet) return;
    Progress &p = *static_cast<Progress *>(ctx);
    const auto now = std::chrono::steady_clock::now();
    if (done < total && now - p.last < std::chrono::milliseconds(250)) return;
    p.last = now;
    const double s = std::chrono::duration<double>(now - p.start).count();
    const double mbs = s > 0 ? double(done) / 1e6 / s : 0.0;
    const int pct = int(100.0 * double(done) / double(total));
    char bar[21];
    for (int i = 0; i < 20; i++) bar[i] = i < pct / 5 ? '#' : '.';
    bar[20] = 0;
    fprintf(stderr, "\rreading %s [%s] %3d%% %.0f/%.0f MB %.1f MB/s, %.0f s left ", p.path, bar, pct,
            double(done) / 1e6, double(total) / 1e6, mbs, mbs > 0 ? double(total - done) / 1e6 / mbs : 0.0);
    if (done == total) fprintf(stderr, "\n");
}

// One model file format. `matches` sees the file's first bytes (fewer if the file is shorter);
// `read` parses the whole file into out.model (the weights may point into out.file).
struct FormatReader {
    const char *name;
    bool (*matches)(const unsigned char *head, size_t n);
    bool (*read)(LoadedModel &out, std::string &err);
};

bool is_gguf(const unsigned char *head, size_t n) { return n >= 4 && !memcmp(head, "GGUF", 4); }

// llama2.c's legacy format has no magic number: it takes whatever no other reader claims.
bool any(const unsigned char *, size_t) { return true; }

bool read_gguf(LoadedModel &out, std::string &err) {
    if (!out.gguf.parse(out.file.data(), out.file.size(), err) || !load_gguf_model(out.gguf, out.model, err)) return false;
    regroup_weights(out.model.weights, out.file.data(), out.file.size());
    return true;
}

bool read_llama2c(LoadedModel &out, std::string &err) {
    return load_model(out.file.data(), out.file.size(), out.model, err);
}

// First match wins: the catch-all llama2.c reader stays last.
constexpr FormatReader kReaders[] = {
    {"GGUF", is_gguf, read_gguf},
    {"llama2.c", any, read_llama2c},
};

}  // namespace

bool load_model_file(const std::string &model_path, LoadedModel &out, std::string &err) {
    LoadedModel l;
    l.model_path = model_path;
    Progress bar{model_path.c_str(), std::chrono::steady_clock::now(), {}};
    // read_all refuses what is not a regular file before opening it, so the format is sniffed
    // from the bytes read rather than from a separate open (which would block on a FIFO).
    if (!bf::vfs::read_all(model_path.c_str(), kMaxModelFileBytes, l.file, err, show_progress, &bar)) return false;
    const FormatReader *reader = &kReaders[0];
    while (!reader->matches(l.file.data(), l.file.size())) reader++;
    l.format = reader->name;
    if (!reader->read(l, err)) return false;
    out = std::move(l);
    return true;
}

namespace {

// The context: opt.ctx, or the model's capped by free memory (see load()).
bool fit_context(LoadedModel &l, const LoadOptions &opt, std::string &err) {
    Config &c = l.model.config;
    if (opt.kv_f16 >= 0) c.kv_f16 = opt.kv_f16 == 1;
    const int declared = c.seq_len;
    if (opt.ctx > 0 && opt.ctx < c.seq_len) c.seq_len = opt.ctx;
    struct sysinfo si {};
    const uint64_t free_bytes = sysinfo(&si) == 0 ? uint64_t(si.freeram) * si.mem_unit : 0;
    const uint64_t budget = free_bytes / 10 * 9;  // leave room for the allocator and the JIT
    auto mib = [](uint64_t b) { return std::to_string((b + (1 << 20) - 1) >> 20); };
    const uint64_t need = RunState::bytes_for(c);
    if (!free_bytes || need <= budget) return true;
    if (opt.ctx > 0) {
        err = "model: a context of " + std::to_string(c.seq_len) + " positions needs " + mib(need) +
              " MiB (KV cache and activations) but " + mib(free_bytes) + " MiB are free: set ctx lower";
        return false;
    }
    while (c.seq_len > 16 && RunState::bytes_for(c) > budget) c.seq_len = c.seq_len > 32 ? c.seq_len / 2 : 16;
    if (RunState::bytes_for(c) > budget) {
        err = "model: even 16 positions need " + mib(RunState::bytes_for(c)) + " MiB; " + mib(free_bytes) +
              " MiB are free";
        return false;
    }
    l.note = "model: its context of " + std::to_string(declared) + " positions needs " + mib(need) + " MiB, " +
             mib(free_bytes) + " MiB are free: using " + std::to_string(c.seq_len) + " (ctx = N sets it)";
    return true;
}

// The whole need, proven at load rather than at the first generation: the weights are in memory
// already, and the run state (KV cache and activations) must be allocatable next to them. free
// memory is only an estimate (the heap may be fragmented, a process limited by ulimit), so the
// block is actually allocated once, untouched, and given back.
bool check_run_state_fits(const Config &c, size_t file_bytes, std::string &err) {
    const uint64_t need = RunState::bytes_for(c);
    void *p = need > RunState::kDefaultMaxBytes ? nullptr : aligned_alloc(64, size_t((need + 63) / 64 * 64));
    if (p) {
        free(p);
        return true;
    }
    auto mib = [](uint64_t b) { return std::to_string((b + (1 << 20) - 1) >> 20); };
    err = "model: the run state for a context of " + std::to_string(c.seq_len) + " positions (KV cache and "
          "activations) needs " + mib(need) + " MiB, which cannot be allocated next to the " + mib(file_bytes) +
          " MiB of weights: set ctx lower";
    return false;
}

}  // namespace

bool load(const std::string &model_path, const std::string &tok_arg, LoadedModel &out, std::string &err,
          const LoadOptions &opt) {
    const std::string &default_tok = opt.default_tokenizer;
    LoadedModel l;
    if (!load_model_file(model_path, l, err)) return false;
    const int vocab_size = l.model.config.vocab_size;
    const bool own = tok_arg.empty() || tok_arg == "-";
    const std::string tok_path = own && !l.gguf.n_keys() ? default_tok : tok_arg;
    if (own && l.gguf.n_keys()) {  // the GGUF file's own vocabulary
        if (!load_vocab(l.gguf, l.vocab, err)) return false;
        if (l.vocab.n_tokens() != vocab_size) {
            err = "tokenizer: the vocabulary has " + std::to_string(l.vocab.n_tokens()) +
                  " tokens but the model's embedding has " + std::to_string(vocab_size) + " rows";
            return false;
        }
        l.has_vocab = true;
        l.tok_path = model_path + " (its own vocabulary)";
    } else if (tok_path.empty() || tok_path == "-") {
        err = "tokenizer: " + model_path + " is a llama2.c checkpoint: it needs a tokenizer file";
        return false;
    } else {
        bf::vfs::Bytes tok_file;
        if (!bf::vfs::read_all(tok_path.c_str(), kMaxTokenizerFileBytes, tok_file, err) ||
            !load_tokenizer(tok_file.data(), tok_file.size(), vocab_size, l.tok, err))
            return false;
        l.tok_path = tok_path;
    }
    if (!fit_context(l, opt, err) || !check_run_state_fits(l.model.config, l.file.size(), err)) return false;
    out = std::move(l);
    return true;
}

Codec LoadedModel::codec() const {
    Codec c;
    if (has_vocab) c.vocab = &vocab;
    else c.tok = &tok;
    return c;
}

}  // namespace bf::llm
