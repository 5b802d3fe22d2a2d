// The `generate` command: load a model (llama2.c checkpoint + tokenizer file, or a GGUF file with
// its own vocabulary) through the one loader, run generation and
// print what run.c prints (the text, then one newline; "achieved tok/s" on stderr), or with
// --trace one line per position: `pos P token T logits l0 .. l7 argmax A max M`.
#include "cli.h"

#include "bareflow/vfs.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <string>

#include "generate.h"
#include "loader.h"
#include "model.h"
#include "params.h"
#include "sampler.h"
#include "tokenizer.h"

namespace bf::llm {
namespace {

const char kUsage[] =
    "usage: generate MODEL [TOKENIZER] [-p prompt] [-n steps] [-t temperature] [-P topp] "
    "[-s seed] [--trace]\n"
    "  MODEL      a llama2.c checkpoint (then TOKENIZER is its tokenizer.bin) or a GGUF file\n"
    "             (its own vocabulary unless TOKENIZER names a llama2.c one; '-' = its own)\n"
    "  -n steps   positions to run (default 256; 0 or above the context means the context)\n"
    "  -t temp    >= 0; 0 = greedy (default 1.0)\n"
    "  -P topp    nucleus sampling threshold in [0,1]; 0 or 1 = off (default 0.9)\n"
    "  -s seed    random seed (default, 0 or negative: from the clock, printed)\n"
    "  --trace    print per-position logits instead of the text\n"
    "  -o FILE    write the text (or trace) to FILE instead of stdout\n";

void print_trace(void *user, int pos, int token, const float *logits, int n) {
    FILE *out = static_cast<FILE *>(user);
    fprintf(out, "pos %d token %d logits", pos, token);
    for (int i = 0; i < n && i < 8; i++) fprintf(out, " %f", double(logits[i]));
    const int a = sample_argmax(logits, n);
    fprintf(out, " argmax %d max %f\n", a, double(logits[a]));
}

void print_piece(void *user, const char *piece) {
    FILE *out = static_cast<FILE *>(user);
    fputs(piece, out);
    fflush(out);
}

}  // namespace

int run_generate(int argc, char **argv, const LoadOptions &load) {
    int i = 1;
    if (i < argc && !strcmp(argv[i], "generate")) i++;
    GenerateRequest req;
    const char *model_path = nullptr, *tok_path = nullptr;
    for (; i < argc; i++) {
        const char *a = argv[i];
        const bool has_value = i + 1 < argc;
        bool ok = true;
        if (!strcmp(a, "--trace")) {
            req.trace = true;
        } else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            fputs(kUsage, stdout);
            return 0;
        } else if (a[0] == '-' && a[1] && !a[2] && strchr("pntPso", a[1])) {
            if (!has_value) {
                fprintf(stderr, "generate: %s needs a value\n%s", a, kUsage);
                return 2;
            }
            const char *v = argv[++i];
            // The one validator of these values (params.h): BAREFLOW.CFG and the REPL's `set`
            // give the same messages.
            std::string err;
            const char *key = "";
            switch (a[1]) {
            case 'p': req.prompt = v; break;
            case 'n': key = "steps", ok = parse_steps(v, req.steps, err); break;
            case 't': key = "temperature", ok = parse_temperature(v, req.temperature, err); break;
            case 'P': key = "topp", ok = parse_topp(v, req.topp, err); break;
            case 's': key = "seed", ok = parse_seed(v, req.seed, err); break;
            case 'o': req.out_path = v; break;
            }
            if (!ok) {
                fprintf(stderr, "generate: %s (%s): %s\n", a, key, err.c_str());
                return 2;
            }
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "generate: unknown option %s\n%s", a, kUsage);
            return 2;
        } else if (!model_path) {
            model_path = a;
        } else if (!tok_path) {
            tok_path = a;
        } else {
            fprintf(stderr, "generate: unexpected argument '%s'\n%s", a, kUsage);
            return 2;
        }
    }
    if (!model_path) {
        fputs(kUsage, stderr);
        return 2;
    }
    req.model = model_path;
    req.tokenizer = tok_path ? tok_path : "";
    req.load = load;
    return run_generate_request(req);
}

int run_generate_request(const GenerateRequest &req) {
    // The values were validated where they were parsed (params.h); a request built in code is
    // held to the same ranges rather than silently changed.
    const float temperature = req.temperature, topp = req.topp;
    if (!temperature_ok(temperature) || !topp_ok(topp) || !steps_ok(req.steps)) {
        fprintf(stderr, "generate: invalid request (temperature %g, topp %g, steps %lld)\n", double(temperature),
                double(topp), static_cast<long long>(req.steps));
        return 2;
    }
    const int64_t steps = req.steps;
    std::string err;
    LoadedModel m;
    if (!load(req.model, req.tokenizer, m, err, req.load)) {
        fprintf(stderr, "generate: %s\n", err.c_str());
        return 1;
    }
    if (!m.note.empty()) fprintf(stderr, "generate: %s\n", m.note.c_str());
    uint64_t seed = req.seed;
    if (seed == 0) {  // from the clock, as run.c; printed so that the run can be repeated
        seed = uint64_t(time(nullptr));
        if (temperature > 0) fprintf(stderr, "generate: seed %llu (from the clock; -s %llu repeats this run)\n",
                                     static_cast<unsigned long long>(seed), static_cast<unsigned long long>(seed));
    }
    Sampler sampler(m.model.config.vocab_size, temperature, topp, uint64_t(seed));
    // -o FILE: exactly what stdout would get, in a file (the console also carries log lines).
    const char *out_path = req.out_path.empty() ? nullptr : req.out_path.c_str();
    FILE *out = stdout;
    if (out_path && !(out = bf::vfs::fopen(out_path, "wb"))) {
        fprintf(stderr, "generate: cannot create %s: %s\n", out_path, strerror(errno));
        return 1;
    }
    GenerateHooks hooks;
    hooks.user = out;
    if (req.trace)
        hooks.on_logits = print_trace;
    else
        hooks.on_piece = print_piece;
    std::string text;
    GenerateStats st;
    if (!generate(m.model, m.codec(), sampler, req.prompt, int(steps), text, err, &hooks, &st)) {
        if (out != stdout) fclose(out);
        fflush(stdout);
        fprintf(stderr, "generate: %s\n", err.c_str());
        return 1;
    }
    if (!req.trace) fputs("\n", out);
    if (out != stdout && fclose(out) != 0) {
        fprintf(stderr, "generate: writing %s failed: %s\n", out_path, strerror(errno));
        return 1;
    }
    fflush(stdout);
    if (st.runc_tok_per_s > 0) fprintf(stderr, "achieved tok/s: %f\n", st.runc_tok_per_s);
    fprintf(stderr,
            "prompt: %d tokens, %.3f ms (= time to the first token, of which encoding %.3f ms); generation: %d "
            "tokens, %.3f ms\n",
            st.n_prompt_tokens, st.prompt_ms, st.encode_ms, st.n_generated, st.gen_ms);
    return 0;
}

}  // namespace bf::llm
