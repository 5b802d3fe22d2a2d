// The benchmarks' machine limits (limits.h): jit/kernels/peak.h's probes, AOT or compiled once by
// the JIT, run on the pool's cores.
#include "bench/limits.h"

#include "bareflow/kernel.h"
#include "bareflow/pool.h"
#include "bareflow/profile.h"
#include "bareflow/vfs.h"
#include "jit/jit.h"
#include "jit/kernels/peak.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <vector>

namespace bf::app::limits {

namespace {

struct Probes {
    int (*dot8)(long, int);
    float (*fma12)(long, float, float);
    float (*fma6)(long, float, float);
    float (*read_sum)(const float *, long);
    int lanes;      // floats per row of the FMA probes' vectors (4 SSE2, 8 AVX2, 16 AVX-512)
    int dot_macs;   // multiply-adds per iteration of dot8 (256, or 512 with 512-bit vectors)
};

const Probes &aot() {
    static const Probes p{&bf_peak_dot8, &bf_peak_fma12, &bf_peak_fma6, &bf_read_sum, bf_peak_lanes(), bf_peak_dot_macs()};
    return p;
}

const Probes *jit() {
    static bool tried;
    static Probes p;
    static bool ok;
    if (tried) return ok ? &p : nullptr;
    tried = true;
    if (!bf::jit::ready()) return nullptr;
    const char *sym[6] = {BF_PROBE_SYMBOL(bf_peak_dot8), BF_PROBE_SYMBOL(bf_peak_fma12), BF_PROBE_SYMBOL(bf_peak_fma6),
                          BF_PROBE_SYMBOL(bf_read_sum), BF_PROBE_SYMBOL(bf_peak_lanes), BF_PROBE_SYMBOL(bf_peak_dot_macs)};
    void *f[6] = {};
    for (int i = 0; i < 6; i++) {
        bf::jit::Compiled c = bf::jit::compile(sym[i], {});
        if (!c.fn) {
            std::printf("limits: the JIT could not compile %s (%s): JIT limits not measured\n", sym[i], c.error.c_str());
            return nullptr;
        }
        f[i] = c.fn;
    }
    p = {reinterpret_cast<int (*)(long, int)>(f[0]), reinterpret_cast<float (*)(long, float, float)>(f[1]),
         reinterpret_cast<float (*)(long, float, float)>(f[2]), reinterpret_cast<float (*)(const float *, long)>(f[3]),
         reinterpret_cast<int (*)()>(f[4])(), reinterpret_cast<int (*)()>(f[5])()};
    ok = true;
    return &p;
}

const Probes *probes(Build b) { return b == Build::Aot ? &aot() : jit(); }

double seconds(uint64_t cycles) { return double(cycles) / double(bf::tsc_hz()); }

// Calls probe(iters, core) on `cores` cores at once and returns the best rate in 1e9 per second
// of per_iter units per core.
template <typename Probe>
double best_rate(int cores, double per_iter, Probe probe) {
    std::vector<float> sink(static_cast<size_t>(cores));  // keeps the results alive
    const int saved = bf::pool::threads();
    bf::pool::set_threads(cores);
    auto run = [&](long iters) {
        const uint64_t t0 = bf::prof::begin();
        bf::pool::for_each(cores, [&](int k) { sink[size_t(k)] = probe(iters, k); });
        return seconds(bf::prof::begin() - t0);
    };
    long iters = 1 << 12;
    while (run(iters) < 0.01 && iters < (1l << 36)) iters *= 2;
    double best = 1e30;
    for (int i = 0; i < 7; i++) best = std::min(best, run(iters));
    bf::pool::set_threads(saved);
    return double(iters) * per_iter * cores / best / 1e9;
}

}  // namespace

bool have_jit() { return jit() != nullptr; }

double fma_gmacs(Build b, int cores) {
    const Probes *p = probes(b);
    if (!p) return 0;
    auto f12 = p->fma12, f6 = p->fma6;
    return std::max(best_rate(cores, 12.0 * p->lanes, [f12](long it, int) { return f12(it, 0.9999f, 1e-5f); }),
                    best_rate(cores, 6.0 * p->lanes, [f6](long it, int) { return f6(it, 0.9999f, 1e-5f); }));
}

double dot_gmacs(Build b, int cores) {
    const Probes *p = probes(b);
    if (!p) return 0;
    auto dot = p->dot8;
    return best_rate(cores, double(p->dot_macs), [dot](long it, int k) { return float(dot(it, k)); });
}

double read_gbs(Build b, int cores, int mib) {
    const Probes *p = probes(b);
    if (!p) return 0;
    constexpr size_t kPiece = size_t(1) << 18;  // floats: 1 MiB
    const int pieces = std::max(1, mib);
    // The weights' kind of memory (vfs::read_all): the same pages, so the same TLB behaviour.
    const size_t n = size_t(pieces) * kPiece;
    std::unique_ptr<float, void (*)(void *)> mem(static_cast<float *>(bf::vfs::alloc_streamed(n * sizeof(float))), free);
    if (!mem) return 0;
    float *buf = mem.get();
    std::fill(buf, buf + n, 1.0f);
    std::vector<float> sums(static_cast<size_t>(pieces));
    const int saved = bf::pool::threads();
    bf::pool::set_threads(cores);
    auto sum = p->read_sum;
    std::vector<double> r;
    for (int i = 0; i < 6; i++) {
        const uint64_t t0 = bf::prof::begin();
        bf::pool::for_each(pieces, [&](int k) { sums[size_t(k)] = sum(buf + size_t(k) * kPiece, long(kPiece)); });
        if (i > 0) r.push_back(double(n * sizeof(float)) / seconds(bf::prof::begin() - t0) / 1e9);  // 0: warm-up
    }
    bf::pool::set_threads(saved);
    std::sort(r.begin(), r.end());
    return r[r.size() / 2];
}

}  // namespace bf::app::limits
