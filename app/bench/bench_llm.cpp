// llama-bench-style numbers for the loaded model: prompt processing (pp) and token generation (tg)
// tokens/s, mean and standard deviation over 5 repetitions, first with every kernel on its AOT
// version, then on JIT code (pp batched as generate() does: one sgemm per weight matrix for up
// to 32 positions); per-token latency jitter (sd / mean); the time from the first MBR
// instruction to the first generated token; and the weight bandwidth tg achieves as a share of
// the read bandwidth, probed before each repetition on the pass's cores (the median of those).
// A benchmark: it prints numbers, asserts nothing.
#include "bench/bench.h"
#include "bench/limits.h"

#include "bareflow/kernel.h"
#include "bareflow/record.h"
#include "bareflow/profile.h"
#include "jit/dispatch.h"
#include "jit/jit.h"
#include "jit/kernels/quant.h"
#include "llm/generate.h"
#include "llm/gguf.h"
#include "llm/loader.h"
#include "llm/sampler.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "bareflow/pool.h"

namespace bf::app {

namespace {

// Environment (kernel command line on bare metal): bench_pp, bench_tg, bench_reps override the
// defaults (pp32, tg64, 5 repetitions), e.g. to keep a large model affordable under emulation.
int env_int(const char *name, int dflt, int lo, int hi) {
    const char *v = std::getenv(name);
    if (!v || !*v) return dflt;
    return std::clamp(std::atoi(v), lo, hi);
}

struct Stat { double mean, sd; };
Stat stat(const std::vector<double> &v) {
    double m = 0, s = 0;
    for (double x : v) m += x;
    m /= double(v.size());
    for (double x : v) s += (x - m) * (x - m);
    return {m, v.size() > 1 ? std::sqrt(s / double(v.size() - 1)) : 0.0};
}

double seconds(uint64_t cycles) { return double(cycles) / double(bf::tsc_hz()); }

// Multiply-adds of one position through the weight matrices (the classifier included): a
// prompt's floor of work, whatever the kernels.
double macs_per_token(const bf::llm::Config &p) {
    const double per_layer = double(p.dim) * (2.0 * p.dim + 2.0 * p.kv_dim) + 3.0 * double(p.dim) * p.hidden_dim;
    return p.n_layers * per_layer + double(p.dim) * p.vocab_size;
}

// Prompt processing as generate() does it: positions 0..pp-1 through forward_batch, kBatch at a
// time (pp <= seq_len).
void prompt(const bf::llm::Model &model, bf::llm::RunState &st, int pp) {
    int tokens[bf::llm::RunState::kBatch];
    for (int pos0 = 0; pos0 < pp; pos0 += bf::llm::RunState::kBatch) {
        const int n = std::min(bf::llm::RunState::kBatch, pp - pos0);
        for (int i = 0; i < n; i++) tokens[i] = 1 + (pos0 + i) % (model.config.vocab_size - 1);
        bf::llm::forward_batch(model, st, tokens, n, pos0, false);
    }
}

// The weights' stored type in lower case ("f32", "q8_0", "q4_k"), "mixed" when the matrices
// differ (e.g. a Q4_K_M file), for the llm_bench record.
std::string weights_name(const bf::llm::Model &m) {
    namespace Q = bf::kern::quant;
    uint32_t t = Q::stored_type(m.weights.wcls.type);  // the file's type name (q4_0 for regrouped Q4_0)
    bool mixed = false;
    for (const bf::llm::Layer &y : m.weights.layers)
        for (const bf::llm::Matrix *x : {&y.wq, &y.wk, &y.wv, &y.wo, &y.w1, &y.w2, &y.w3}) mixed |= Q::stored_type(x->type) != t;
    if (mixed) return "mixed";
    const char *n = bf::llm::gguf::type_name(t);
    std::string s = n ? n : "?";
    for (char &c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

}  // namespace

int run_bench_llm(const Settings &settings, uint64_t us_at_main) {
    bf::llm::LoadedModel m;
    std::string err;
    if (!bf::llm::load_model_file(settings.model, m, err)) {
        std::printf("bench-llm: cannot load %s: %s\n", settings.model.c_str(), err.c_str());
        return 1;
    }
    return run_bench_llm(m, us_at_main);
}

int run_bench_llm(const bf::llm::LoadedModel &m, uint64_t us_at_main) {
    const bf::llm::Model &model = m.model;
    const char *model_path = m.model_path.c_str();
    std::string err;
    const auto &p = model.config;
    bf::llm::RunState st;
    if (!st.init(p, err)) {
        std::printf("bench-llm: %s\n", err.c_str());
        return 1;
    }
    const int kReps = env_int("bench_reps", 5, 1, 100);
    const int pp = std::min(env_int("bench_pp", 32, 1, 1 << 20), p.seq_len / 2);
    const int tg = std::min(env_int("bench_tg", 64, 1, 1 << 20), p.seq_len - pp - 1);
    if (pp < 1 || tg < 1) {
        std::printf("bench-llm: seq_len %d is too short for a benchmark\n", p.seq_len);
        return 1;
    }
    const double weight_bytes = double(m.file.size());  // every weight is read once per token (near enough)
    const std::string weights = weights_name(model);
    // Passes: AOT and JIT on one core, then JIT on every core the pool uses (threads = N).
    const int all = bf::pool::threads();
    // The weights stream at the read bandwidth (token generation), a prompt at the multiply-add
    // rate of the kernels' inner step (int8 dot products for quantized weights, fp32 FMA for the
    // others): both measured here on 1 and N cores, with the build the kernels run.
    const limits::Build build = limits::have_jit() ? limits::Build::Jit : limits::Build::Aot;
    const double bw1 = limits::read_gbs(build, 1, 64);
    const double bwn = all > 1 ? limits::read_gbs(build, all, 64) : bw1;
    const bool int_dot = weights != "f32" && weights != "f16" && weights != "bf16";
    const char *peak_kind = int_dot ? "int8 dot" : "fp32 FMA";
    const double macs = macs_per_token(p);
    auto peak = [&](int cores) { return int_dot ? limits::dot_gmacs(build, cores) : limits::fma_gmacs(build, cores); };
    const double peak1 = peak(1);
    const double peakn = all > 1 ? peak(all) : peak1;
    const char *where = bf::bare_metal() ? "bare-metal" : "hosted";
    std::printf("bench-llm: %s, %s: dim %d, %d layers, vocab %d, %.1f M parameters, weights %s (%.1f MB); pp%d tg%d, %d reps; read bandwidth %.2f GB/s (1 core)",
                where, model_path, p.dim, p.n_layers, p.vocab_size, double(model.n_params) / 1e6, weights.c_str(),
                weight_bytes / 1e6, pp, tg, kReps, bw1);
    if (all > 1) std::printf(", %.2f GB/s (%d cores)", bwn, all);
    std::printf("\n");
    std::printf("bench-llm: %s peak %.1f G multiply-adds/s (1 core)", peak_kind, peak1);
    if (all > 1) std::printf(", %.1f (%d cores)", peakn, all);
    std::printf("; %.1f M multiply-adds a token: prompt bound %.0f tok/s on 1 core\n", macs / 1e6, peak1 * 1e9 / macs);
    uint64_t first_token_us = 0;
    double jit_pp[2] = {}, jit_tg[2] = {};  // JIT at 1 thread and at all: the scaling line below
    for (int pass = 0; pass < (all > 1 ? 3 : 2); pass++) {
        const int jit_pass = pass > 0, threads = pass == 2 ? all : 1;
        bf::pool::set_threads(threads);
        const char *mode = jit_pass ? "jit" : "aot";
        bf::jit::set_tiering(jit_pass == 1);
        if (jit_pass) {  // warm-up: hot kernels get compiled (or linked from the cache), tried and swapped
            for (int w = 0; w < 3 || (bf::jit::trials_running() && w < 40); w++) {
                prompt(model, st, pp);
                for (int pos = pp; pos < pp + tg; pos++) bf::llm::forward(model, st, 1 + pos % (p.vocab_size - 1), pos);
            }
            if (bf::jit::trials_running())
                std::printf("bench-llm: %d kernel slots still compiling or in a trial after the warm-up: the figures below include them\n",
                            bf::jit::trials_running());
        }
        std::vector<double> pp_rates, tg_rates, jitters, bws;
        for (int rep = 0; rep < kReps; rep++) {
            // The limit next to each repetition: on a shared host the bandwidth left to this
            // process drifts within a minute (session 10: 15-22 GB/s between runs), so the share
            // is taken against the probes of the same minutes, not one probe at the start.
            bws.push_back(limits::read_gbs(build, threads, 64));
            uint64_t t0 = bf::prof::begin();
            prompt(model, st, pp);
            pp_rates.push_back(pp / seconds(bf::prof::begin() - t0));
            std::vector<double> lat;
            int token = 1;
            for (int i = 0; i < tg; i++) {
                uint64_t t = bf::prof::begin();
                float *logits = bf::llm::forward(model, st, token, pp + i);
                token = int(std::max_element(logits, logits + p.vocab_size) - logits);
                lat.push_back(seconds(bf::prof::begin() - t));
                if (!first_token_us && bf::bare_metal()) first_token_us = bf::us_since_power_on();
            }
            Stat l = stat(lat);
            double total = 0;
            for (double x : lat) total += x;
            tg_rates.push_back(tg / total);
            jitters.push_back(l.sd / l.mean);
        }
        Stat a = stat(pp_rates), g = stat(tg_rates), j = stat(jitters);
        std::sort(bws.begin(), bws.end());
        const double bw = bws[bws.size() / 2] > 0 ? bws[bws.size() / 2] : (threads > 1 ? bwn : bw1);
        double gbs = weight_bytes * g.mean / 1e9;
        const double peak = threads > 1 ? peakn : peak1, pct_peak = peak > 0 ? 100.0 * a.mean * macs / (peak * 1e9) : 0;
        std::printf("bench-llm: %-3s x%-2d pp%-3d %10.2f +- %-8.2f tok/s   tg%-3d %10.2f +- %-8.2f tok/s   jitter %.3f   weights %.2f GB/s = %.1f%% of read bandwidth %.2f GB/s",
                    mode, threads, pp, a.mean, a.sd, tg, g.mean, g.sd, j.mean, gbs, 100.0 * gbs / bw, bw);
        std::printf("; pp = %.1f%% of the %s peak", pct_peak, peak_kind);
        std::printf("\n");
        if (jit_pass) jit_pp[threads > 1] = a.mean, jit_tg[threads > 1] = g.mean;
        bf::recordf("{\"record\":\"llm_bench\",\"where\":\"%s\",\"mode\":\"%s\",\"model\":\"%s\",\"params\":%llu,"
                    "\"weights\":\"%s\",\"weight_bytes\":%.0f,\"threads\":%d,"
                    "\"pp\":%d,\"pp_tok_s\":%.3f,\"pp_tok_s_sd\":%.3f,\"tg\":%d,\"tg_tok_s\":%.3f,\"tg_tok_s_sd\":%.3f,"
                    "\"jitter\":%.4f,\"reps\":%d,\"weight_gbs\":%.3f,\"read_gbs\":%.3f,\"pct_bandwidth\":%.2f,"
                    "\"macs_per_token\":%.0f,\"peak_kind\":\"%s\",\"peak_gmacs\":%.3f,\"pp_pct_peak\":%.2f}\n",
                    where, mode, model_path, static_cast<unsigned long long>(model.n_params), weights.c_str(),
                    weight_bytes, threads, pp, a.mean, a.sd, tg, g.mean, g.sd, j.mean,
                    kReps, gbs, bw, 100.0 * gbs / bw, macs, int_dot ? "int8_dot" : "fp32_fma", peak, pct_peak);
    }
    if (all > 1 && jit_pp[0] > 0 && jit_tg[0] > 0 && bw1 > 0)
        std::printf("bench-llm: jit x%d / x1: pp %.2fx, tg %.2fx; read bandwidth %d cores / 1 core %.2fx\n", all,
                    jit_pp[1] / jit_pp[0], jit_tg[1] / jit_tg[0], all, bwn / bw1);
    bf::jit::set_tiering(true);
    bf::pool::set_threads(all);
    // What the trials chose (jit/tune.h): a slot left on JIT code slower than AOT would be a defect.
    int on_jit = 0, kept = 0, slower = 0;
    for (int i = 0; i < bf::jit::slot_count(); i++) {
        const bf::jit::Slot *s = bf::jit::slot_at(i);
        kept += s->state == bf::jit::kKept;
        if (s->state != bf::jit::kJit) continue;
        on_jit++;
        const double x = bf::jit::speedup(*s);
        slower += x > 0 && x < 0.95;
    }
    std::printf("bench-llm: kernel slots: %d on JIT code, %d kept on AOT (no JIT code was faster), %d on JIT code below 0.95x AOT\n",
                on_jit, kept, slower);
    bf::jit::report();
    if (bf::bare_metal() && us_at_main) {
        std::printf("bench-llm: power-on (first MBR instruction) to main %.1f ms, to the first generated token %.1f ms\n",
                    us_at_main / 1000.0, first_token_us / 1000.0);
        bf::recordf("{\"record\":\"first_token\",\"main_us\":%llu,\"first_token_us\":%llu}\n",
                    static_cast<unsigned long long>(us_at_main), static_cast<unsigned long long>(first_token_us));
    }
    return 0;
}

}  // namespace bf::app
