// `bareflow bench-kernels`: the tensor kernels on llama2.c model shapes (15M: dim 288, hidden 768;
// 110M: dim 768, hidden 2048; vocab 32000), AOT (baseline SSE2) against the JIT's version
// specialized for the shape and compiled for this CPU, next to the machine's limits measured in
// the same run (single-core FMA peak, single-core read bandwidth). A benchmark: it prints numbers
// ("bench-kernels:" lines, bench_kernel and bench_limits records) and asserts nothing.
//
// Options (environment; on bare metal, key=value words on the kernel command line; the jit ones
// also from BAREFLOW.CFG):
//   bench_budget_ms=N  time per (kernel, shape, version) for the repetitions (default 200 hosted,
//                      400 bare metal; at least 3 runs unless one run alone exceeds the budget)
//   bench_big=1        also sgemm 2048^3 on bare metal (always run hosted; too slow under TCG)
//   bench_bw_mib=N     read-bandwidth buffer (default 256 MiB, 64 MiB with less than 2 GiB RAM)
//   jit=off, jit_cache=on|clear (default here: no cache, so compile times are real compiles)
#include "bench/bench.h"
#include "bench/limits.h"
#include "jit_setup.h"

#include "jit/dispatch.h"
#include "jit/kernels/kernels.h"
#include "jit/kernels/quant.h"
#include "bareflow/kernel.h"
#include "bareflow/record.h"
#include "bareflow/profile.h"
#include "jit/jit.h"

#include <cpuid.h>
#include <sys/sysinfo.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>
#include <vector>


namespace bf::app {

namespace {

namespace K = bf::kern;

const char *where() { return bf::bare_metal() ? "bare-metal" : "hosted"; }
double hz() { return double(bf::tsc_hz()); }

uint64_t budget_cycles;  // per (case, version)
bool jit_on;

// Median cycles of `fn()`: one timed warm-up run, then as many runs as fit in the budget (at
// least 3, at most 1000); a run longer than the budget on its own counts as the only sample.
// `prep()` runs before each call, untimed (restores the inputs of in-place kernels).
template <typename Fn, typename Prep>
double median_cycles(Fn fn, Prep prep, int *runs_out) {
    prep();
    uint64_t t0 = bf::prof::begin();
    fn();
    uint64_t first = bf::prof::begin() - t0;
    std::vector<uint64_t> s;
    if (first >= budget_cycles) {
        s.push_back(first);
    } else {
        uint64_t n = std::clamp<uint64_t>(budget_cycles / std::max<uint64_t>(first, 1), 3, 1000);
        for (uint64_t i = 0; i < n; i++) {
            prep();
            uint64_t t = bf::prof::begin();
            fn();
            s.push_back(bf::prof::begin() - t);
        }
    }
    std::sort(s.begin(), s.end());
    if (runs_out) *runs_out = int(s.size());
    return double(s[s.size() / 2]);
}

// Deterministic fill in [-1, 1): a quick LCG (mt19937 on 100 MB is slow under TCG).
void fill(std::vector<float> &v, uint32_t seed) {
    uint32_t x = seed * 2654435761u + 1;
    for (auto &f : v) {
        x = x * 1664525u + 1013904223u;
        f = float(int32_t(x >> 8) - (1 << 23)) * (1.0f / float(1 << 23));
    }
}

std::vector<float> rnd(size_t n, uint32_t seed) {
    std::vector<float> v(n);
    fill(v, seed);
    return v;
}

std::string cpu_brand() {
    unsigned r[12] = {};
    unsigned a, b, c, d;
    if (!__get_cpuid(0x80000000, &a, &b, &c, &d) || a < 0x80000004) return "unknown";
    for (unsigned i = 0; i < 3; i++) __get_cpuid(0x80000002 + i, &r[i * 4], &r[i * 4 + 1], &r[i * 4 + 2], &r[i * 4 + 3]);
    std::string s(reinterpret_cast<const char *>(r), 48);
    s = s.c_str();
    while (!s.empty() && s.back() == ' ') s.pop_back();
    while (!s.empty() && s.front() == ' ') s.erase(0, 1);
    for (auto &ch : s)
        if (ch == '"' || ch == '\\') ch = ' ';
    return s;
}

struct Limits {
    double peak_aot = 0, peak_jit = 0;  // GFLOP/s
    double bw_aot = 0, bw_jit = 0;      // GB/s (1e9 bytes)
    int bw_mib = 0;
};
Limits lim;

// The JIT's version of `symbol` with `binds`; compiled once per run (a second compile of the same
// key would define the same symbol twice), later calls get the first compile's figures.
void *jit_fn(const char *symbol, const std::vector<std::pair<int, int64_t>> &binds, double *ms,
             uint64_t *cycles) {
    struct Done {
        std::string symbol;
        std::vector<std::pair<int, int64_t>> binds;
        void *fn;
        double ms;
        uint64_t cycles;
    };
    static std::vector<Done> done;
    if (!jit_on) return nullptr;
    for (const Done &d : done)
        if (d.symbol == symbol && d.binds == binds) {
            if (ms) *ms = d.ms;
            if (cycles) *cycles = d.cycles;
            return d.fn;
        }
    uint64_t t0 = bf::prof::begin();
    bf::jit::Compiled c = bf::jit::compile(symbol, binds);
    uint64_t cc = bf::prof::begin() - t0;
    if (cycles) *cycles = cc;
    if (ms) *ms = c.ms;
    if (!c.fn) std::printf("bench-kernels: JIT compile of %s failed: %s\n", symbol, c.error.c_str());
    else done.push_back({symbol, binds, c.fn, c.ms, cc});
    return c.fn;
}

void measure_limits() {
    using limits::Build;
    lim.peak_aot = 2 * limits::fma_gmacs(Build::Aot, 1);
    if (jit_on && limits::have_jit()) lim.peak_jit = 2 * limits::fma_gmacs(Build::Jit, 1);
    struct sysinfo si {};
    uint64_t ram = sysinfo(&si) == 0 ? uint64_t(si.totalram) * si.mem_unit : 0;
    lim.bw_mib = ram >= (2ull << 30) ? 256 : 64;
    if (const char *v = std::getenv("bench_bw_mib")) lim.bw_mib = std::max(1, std::atoi(v));
    lim.bw_aot = limits::read_gbs(Build::Aot, 1, lim.bw_mib);
    if (jit_on && limits::have_jit()) lim.bw_jit = limits::read_gbs(Build::Jit, 1, lim.bw_mib);
}

double peak() { return lim.peak_jit > 0 ? lim.peak_jit : lim.peak_aot; }
double bandwidth() { return lim.bw_jit > 0 ? lim.bw_jit : lim.bw_aot; }

// One (kernel, shape): the AOT function and, if the JIT compiled it, the specialized one.
struct Case {
    const char *kernel;
    std::string shape;
    double flops, bytes;
    bool compute_bound;  // % of the FMA peak; else % of the read bandwidth
};

void print_header() {
    std::printf("bench-kernels: %-10s %-16s %12s %12s %7s %8s %8s %8s %9s %10s %7s %s\n", "kernel", "shape",
                "AOT cycles", "JIT cycles", "speedup", "GF AOT", "GF JIT", "GB/s", "compile", "break-even",
                "% limit", "runs");
}

// Prints the line and the record. jit_cycles <= 0: no JIT version.
void report(const Case &c, double aot, double jitc, double compile_ms, uint64_t compile_cycles, int runs_aot,
            int runs_jit) {
    double sec_aot = aot / hz(), sec_jit = jitc / hz();
    bool j = jitc > 0;
    double best = j ? sec_jit : sec_aot;
    double gf_aot = c.flops / sec_aot / 1e9, gf_jit = j ? c.flops / sec_jit / 1e9 : 0;
    double gbs = c.bytes / best / 1e9;
    double pct = c.compute_bound ? 100.0 * (c.flops / best / 1e9) / peak() : 100.0 * gbs / bandwidth();
    long long be = (j && aot > jitc) ? (long long)(double(compile_cycles) / (aot - jitc)) + 1 : -1;
    char sp[16] = "-", gj[16] = "-", jc[24] = "-", cm[24] = "-", bes[24] = "-";
    if (j) {
        std::snprintf(sp, sizeof sp, "%.2fx", aot / jitc);
        std::snprintf(gj, sizeof gj, "%.2f", gf_jit);
        std::snprintf(jc, sizeof jc, "%.0f", jitc);
        std::snprintf(cm, sizeof cm, "%.1f ms", compile_ms);
        std::snprintf(bes, sizeof bes, be < 0 ? "never" : "%lld", be);
    }
    std::printf("bench-kernels: %-10s %-16s %12.0f %12s %7s %8.2f %8s %8.2f %9s %10s %6.1f%% %d/%d\n", c.kernel,
                c.shape.c_str(), aot, jc, sp, gf_aot, gj, gbs, cm, bes, pct, runs_aot, runs_jit);
    char jnum[32] = "null", spn[32] = "null", gjn[32] = "null", cmn[32] = "null", ben[32] = "null",
         gbj[32] = "null";
    if (j) {
        std::snprintf(gbj, sizeof gbj, "%.3f", gbs);
        std::snprintf(jnum, sizeof jnum, "%.0f", jitc);
        std::snprintf(spn, sizeof spn, "%.3f", aot / jitc);
        std::snprintf(gjn, sizeof gjn, "%.3f", gf_jit);
        std::snprintf(cmn, sizeof cmn, "%.3f", compile_ms);
        std::snprintf(ben, sizeof ben, "%lld", be);
    }
    bf::recordf("{\"record\":\"bench_kernel\",\"where\":\"%s\",\"kernel\":\"%s\",\"shape\":\"%s\",\"aot_cycles\":%.0f,"
                "\"jit_cycles\":%s,\"speedup\":%s,\"gflops_aot\":%.3f,\"gflops_jit\":%s,\"gbs_jit\":%s,"
                "\"compile_ms\":%s,\"break_even_calls\":%s,\"pct_of_limit\":%.1f,\"limit\":\"%s\","
                "\"cycles\":%.0f,\"gflops\":%.3f,\"gbs\":%.3f,\"flops\":%.0f,\"bytes\":%.0f,\"runs\":%d}\n",
                where(), c.kernel, c.shape.c_str(), aot, jnum, spn, gf_aot, gjn, gbj, cmn, ben, pct,
                c.compute_bound ? "fma_peak" : "read_bw", j ? jitc : aot, j ? gf_jit : gf_aot, gbs, c.flops,
                c.bytes, runs_aot);
    std::fflush(stdout);
}

// Times `call(fn)` with the AOT function of registry kernel `kernel` and with the JIT's version
// specialized for `shape` (what a dispatch slot of that shape compiles), plus `extra` bindings.
template <typename Fn, typename Call, typename Prep>
void run_case(const Case &c, Fn aot_fn, int kernel, std::vector<int64_t> shape, Call call, Prep prep,
              std::vector<std::pair<int, int64_t>> extra = {}) {
    int ra = 0, rj = 0;
    double aot = median_cycles([&] { call(aot_fn); }, prep, &ra);
    double ms = 0, jc = 0;
    uint64_t cc = 0;
    std::vector<std::pair<int, int64_t>> binds = bf::jit::shape_binds(kernel, shape.data());
    binds.insert(binds.end(), extra.begin(), extra.end());
    std::sort(binds.begin(), binds.end());
    if (Fn f = reinterpret_cast<Fn>(jit_fn(bf::jit::kernel_symbol(kernel), binds, &ms, &cc)))
        jc = median_cycles([&] { call(f); }, prep, &rj);
    report(c, aot, jc, ms, cc, ra, rj);
}

std::string dims(std::initializer_list<long> v, const char *sep = "x") {
    std::string s;
    for (long x : v) s += (s.empty() ? "" : sep) + std::to_string(x);
    return s;
}

// matvec: shape "n x d" = input x output (W is d x n): 288x768 is the 15M model's w1/w3.
void bench_matvec(int n, int d) {
    auto w = rnd(size_t(n) * d, 1), x = rnd(n, 2);
    std::vector<float> out(d);
    Case c{"matvec", dims({n, d}), 2.0 * n * d, 4.0 * (double(n) * d + n + d), false};
    using Fn = void (*)(float *, const float *, const float *, int, int);
    run_case(c, static_cast<Fn>(&K::matvec), bf::jit::k_matvec, {n, d},
             [&](Fn f) { f(out.data(), x.data(), w.data(), n, d); }, [] {});
}

// Quantized weights (GGUF types): matvec (token generation: GB/s of weights, % of the read
// bandwidth) and matmat for a 32-position prompt batch ("m32": GFLOP/s of the integer work,
// counted as 2 n d m). Weights: random floats quantized by the converter's quantizers where
// there is one (Q8_0, Q4_0 (and regrouped: q4_0x8), Q4_K), fp16-rounded for F16, random bytes with sane scales for
// Q5_K/Q6_K (speed does not depend on the values).
namespace Q = bf::kern::quant;
struct QType {
    const char *name;
    uint32_t type;
    int mv_kernel, mm_kernel;
    void (*mv)(float *, const void *, const void *, int, int);
    void (*mm)(float *, const void *, const void *, int, int, int);
    void (*to_act)(void *, const float *, int);
    size_t act_bytes_per_block, act_block;
};
const QType kQTypes[] = {
    {"q8_0", Q::Q8_0, bf::jit::k_matvec_q8_0, bf::jit::k_matmat_q8_0, K::matvec_q8_0, K::matmat_q8_0, K::quantize_q8_0, 34, 32},
    {"q4_0", Q::Q4_0, bf::jit::k_matvec_q4_0, bf::jit::k_matmat_q4_0, K::matvec_q4_0, K::matmat_q4_0, K::quantize_q8_0, 34, 32},
    {"q4_0x8", Q::Q4_0_X8, bf::jit::k_matvec_q4_0x8, bf::jit::k_matmat_q4_0x8, K::matvec_q4_0x8, K::matmat_q4_0x8,
     K::quantize_q8_0, 34, 32},  // Q4_0 as the loader regroups it (rows of whole 256-value groups)
    {"q4_k", Q::Q4_K, bf::jit::k_matvec_q4_k, bf::jit::k_matmat_q4_k, K::matvec_q4_k, K::matmat_q4_k, K::quantize_q8_k, 292, 256},
    {"q5_k", Q::Q5_K, bf::jit::k_matvec_q5_k, bf::jit::k_matmat_q5_k, K::matvec_q5_k, K::matmat_q5_k, K::quantize_q8_k, 292, 256},
    {"q6_k", Q::Q6_K, bf::jit::k_matvec_q6_k, bf::jit::k_matmat_q6_k, K::matvec_q6_k, K::matmat_q6_k, K::quantize_q8_k, 292, 256},
    {"f16", Q::F16, bf::jit::k_matvec_f16, bf::jit::k_matmat_f16, K::matvec_f16, K::matmat_f16, K::to_f16, 2, 1},
};

std::vector<unsigned char> qweights(const QType &t, int n, int d) {
    const size_t bytes = size_t(d) * size_t(n / Q::block_size(t.type)) * size_t(Q::block_bytes(t.type));
    std::vector<unsigned char> w(bytes);
    const auto f = rnd(size_t(n) * d, 7);
    if (t.type == Q::F16) {
        K::ref::to_f16(w.data(), f.data(), int(f.size()));
    } else if (t.type == Q::Q4_0_X8) {  // Q4_0's quantizer, then the loader's regrouping
        Q::quantize_row_weights(Q::Q4_0, f.data(), w.data(), int64_t(f.size()));
        const size_t row = w.size() / size_t(d);
        for (int r = 0; r < d; r++) Q::regroup_q4_0(w.data() + size_t(r) * row, n);
    } else if (!Q::quantize_row_weights(t.type, f.data(), w.data(), int64_t(f.size()))) {
        uint32_t g = 12345;
        for (auto &b : w) b = static_cast<unsigned char>((g = g * 1664525u + 1013904223u) >> 24);
        const size_t bb = size_t(Q::block_bytes(t.type));
        const size_t at = t.type == Q::Q6_K ? offsetof(Q::block_q6_K, d) : 0;  // Q5_K: d, dmin first
        const Q::fp16_t d16 = Q::fp32_to_fp16(0.01f);
        for (size_t i = 0; i + bb <= w.size(); i += bb) {
            std::memcpy(&w[i + at], &d16, 2);
            if (t.type == Q::Q5_K) std::memcpy(&w[i + 2], &d16, 2);
        }
    }
    return w;
}

void bench_qmatvec(const QType &t, int n, int d) {
    const auto w = qweights(t, n, d);
    const auto x = rnd(size_t(n) * 32, 8);
    std::vector<unsigned char> xq(size_t(n) / t.act_block * t.act_bytes_per_block * 32);
    const size_t row = size_t(n) / t.act_block * t.act_bytes_per_block;
    for (int p = 0; p < 32; p++) t.to_act(xq.data() + p * row, x.data() + size_t(p) * n, n);
    std::vector<float> out(size_t(d) * 32);
    const std::string kname = std::string("matvec_") + t.name;
    Case c{kname.c_str(), dims({n, d}), 2.0 * n * d, double(w.size()) + double(row) + 4.0 * d, false};
    using MV = void (*)(float *, const void *, const void *, int, int);
    run_case(c, t.mv, t.mv_kernel, {n, d}, [&](MV f) { f(out.data(), xq.data(), w.data(), n, d); }, [] {});
    const std::string mname = std::string("matmat_") + t.name;
    Case m{mname.c_str(), dims({n, d}) + "m32", 2.0 * n * d * 32, double(w.size()) + double(row) * 32 + 128.0 * d,
           true};
    using MM = void (*)(float *, const void *, const void *, int, int, int);
    run_case(m, t.mm, t.mm_kernel, {n, d}, [&](MM f) { f(out.data(), xq.data(), w.data(), n, d, 32); }, [] {});
}

// C = A * B (square, "m x n x k") or a prompt batch of m positions times a weight matrix W
// (n x k), C = A * W^T, as forward_batch calls it ("m x n x kT"; the dispatch table specializes
// n, k and trans_b there, not m).
void bench_sgemm(int m, int n, int k, bool trans) {
    auto a = rnd(size_t(m) * k, 3), b = rnd(size_t(k) * n, 4);
    std::vector<float> cm(size_t(m) * n);
    Case c{"sgemm", dims({m, n, k}) + (trans ? "T" : ""), 2.0 * m * n * k,
           4.0 * (double(m) * k + double(k) * n + double(m) * n), true};
    using Fn = void (*)(float *, const float *, const float *, int, int, int, bool);
    // The square cases also bind m: one compile per benchmark shape, as the issue's figures were
    // taken (the dispatch slot keys on n, k, trans_b only).
    std::vector<std::pair<int, int64_t>> extra;
    if (!trans) extra.push_back({bf::jit::arg_index(bf::jit::k_sgemm, "m"), m});
    run_case(c, static_cast<Fn>(&K::sgemm), bf::jit::k_sgemm, {n, k, trans},
             [&](Fn f) { f(cm.data(), a.data(), b.data(), m, n, k, trans); }, [] {}, extra);
}

// One query position against a cache of pos+1 keys/values (n_kv_heads = n_heads, as llama2.c's
// stories models). Flops: q.k and the weighted sum of values, 2 * 2 * heads * (pos+1) * head_size.
void bench_attention(int heads, int hs, int pos) {
    int kv = heads * hs;
    auto q = rnd(size_t(kv), 5), kc = rnd(size_t(pos + 1) * kv, 6), vc = rnd(size_t(pos + 1) * kv, 7);
    std::vector<float> out(static_cast<size_t>(kv)), att(static_cast<size_t>(heads) * (pos + 1));
    double t = pos + 1;
    Case c{"attention", dims({heads, hs}, "/") + "@" + std::to_string(pos), 4.0 * heads * t * hs,
           4.0 * (2 * t * kv + 2.0 * kv + 2 * heads * t), true};
    using Fn = void (*)(float *, float *, const float *, const float *, const float *, int, int, int, int, int, int);
    run_case(c, static_cast<Fn>(&K::attention), bf::jit::k_attention, {heads, heads, hs},
             [&](Fn f) { f(out.data(), att.data(), q.data(), kc.data(), vc.data(), pos, heads, heads, hs, 0, heads); },
             [] {});
}

// Element-wise kernels: nominal flops (rmsnorm 4n: squares, sum, scale, weight; softmax 4n: max,
// subtract, exp, divide, counting exp as one; swiglu 5n), bytes read + written.
void bench_rmsnorm(int n) {
    auto x = rnd(n, 8), w = rnd(n, 9);
    std::vector<float> o(n);
    Case c{"rmsnorm", std::to_string(n), 4.0 * n, 12.0 * n, false};
    using Fn = void (*)(float *, const float *, const float *, int, float);
    run_case(c, static_cast<Fn>(&K::rmsnorm), bf::jit::k_rmsnorm, {n}, [&](Fn f) { f(o.data(), x.data(), w.data(), n, 1e-5f); },
             [] {});
}

void bench_softmax(int n) {  // generic slot, as the dispatch table compiles it (n varies per position)
    auto x0 = rnd(n, 10);
    std::vector<float> x = x0;
    Case c{"softmax", std::to_string(n), 4.0 * n, 8.0 * n, false};
    using Fn = void (*)(float *, int);
    run_case(c, static_cast<Fn>(&K::softmax), bf::jit::k_softmax, {}, [&](Fn f) { f(x.data(), n); }, [&] { x = x0; });
}

void bench_swiglu(int n) {
    auto h0 = rnd(n, 11), g = rnd(n, 12);
    std::vector<float> h = h0;
    Case c{"swiglu", std::to_string(n), 5.0 * n, 12.0 * n, false};
    using Fn = void (*)(float *, const float *, int);
    run_case(c, static_cast<Fn>(&K::swiglu), bf::jit::k_swiglu, {n}, [&](Fn f) { f(h.data(), g.data(), n); },
             [&] { h = h0; });
}

}  // namespace

int run_bench_kernels(const Settings &settings) {
    bf::jit::Options o = jit_options_from_config(settings);
    if (settings.jit_cache == JitCache::Unset) o.use_cache = false;  // compile times are real compiles
    jit_on = start_jit(o) && o.enabled;
    double budget_ms = bf::bare_metal() ? 400 : 200;
    if (const char *v = std::getenv("bench_budget_ms")) budget_ms = std::max(1.0, std::atof(v));
    budget_cycles = uint64_t(budget_ms * 1e-3 * hz());
    const char *big = std::getenv("bench_big");
    bool do_big = !bf::bare_metal() || (big && !std::strcmp(big, "1"));
    std::string brand = cpu_brand();
    std::printf("bench-kernels: %s, %s, TSC %.0f kHz, JIT %s%s%s, budget %.0f ms per case and version\n", where(),
                brand.c_str(), hz() / 1000, jit_on ? "on (" : "off", jit_on ? bf::jit::cpu_name().c_str() : "",
                jit_on ? ")" : "", budget_ms);

    measure_limits();
    std::printf("bench-kernels: limits: FMA peak %.2f GFLOP/s JIT (%s), %.2f AOT (SSE2); read bandwidth %.2f GB/s "
                "JIT, %.2f AOT (%d MiB, median of 5); peak = fastest of 7\n",
                lim.peak_jit, jit_on ? bf::jit::cpu_name().c_str() : "off", lim.peak_aot, lim.bw_jit, lim.bw_aot,
                lim.bw_mib);
    bf::recordf("{\"record\":\"bench_limits\",\"where\":\"%s\",\"cpu\":\"%s\",\"jit_cpu\":\"%s\",\"bitcode\":\"%s\","
                "\"tsc_khz\":%.0f,\"fma_peak_gflops_jit\":%.3f,\"fma_peak_gflops_aot\":%.3f,"
                "\"read_gbs_jit\":%.3f,\"read_gbs_aot\":%.3f,\"read_buffer_mib\":%d}\n",
                where(), brand.c_str(), jit_on ? bf::jit::cpu_name().c_str() : "",
                jit_on ? bf::jit::bitcode_variant() : "", hz() / 1000, lim.peak_jit, lim.peak_aot, lim.bw_jit,
                lim.bw_aot, lim.bw_mib);
    std::fflush(stdout);

    print_header();
    for (auto [n, d] : {std::pair{288, 288}, {288, 768}, {768, 288}, {288, 32000},      // 15M
                        {768, 768}, {768, 2048}, {2048, 768}, {768, 32000}})               // 110M
        bench_matvec(n, d);
    for (const QType &t : kQTypes)
        for (auto [n, d] : {std::pair{768, 2048}, {2048, 768}, {768, 32000}}) bench_qmatvec(t, n, d);  // 110M
    bench_sgemm(256, 256, 256, false);
    bench_sgemm(1024, 1024, 1024, false);
    if (do_big) bench_sgemm(2048, 2048, 2048, false);
    else std::printf("bench-kernels: sgemm 2048x2048x2048 skipped on bare metal (bench_big=1 runs it)\n");
    for (auto [n, k] : {std::pair{768, 768}, {2048, 768}, {32000, 768}}) bench_sgemm(32, n, k, true);
    bench_attention(6, 48, 255);
    bench_attention(12, 64, 255);
    for (int n : {288, 768}) bench_rmsnorm(n);
    for (int n : {256, 32000}) bench_softmax(n);
    for (int n : {768, 2048}) bench_swiglu(n);
    std::printf("bench-kernels: done (%% limit: sgemm/attention/matmat vs the FMA peak, the others vs the read "
                "bandwidth; in-cache shapes can exceed it)\n");
    return 0;
}

}  // namespace bf::app
