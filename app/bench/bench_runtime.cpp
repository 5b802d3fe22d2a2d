// `bareflow bench-runtime`: what the runtime itself costs, measured in this run: a syscall round
// trip, a profiled region, and (bare metal) the time from the first MBR instruction to main().
// Medians over repeated batches. A benchmark: it prints numbers and asserts nothing.
#include "bench/bench.h"

#include "bareflow/kernel.h"
#include "bareflow/record.h"
#include "bareflow/profile.h"

#include <algorithm>
#include <cstdio>
#include <unistd.h>
#include <sys/syscall.h>
#include <vector>

namespace bf::app {

namespace {

template <typename Fn>
double median_cycles_per_op(int batches, int ops, Fn fn) {
    std::vector<double> per;
    for (int b = 0; b < batches; b++) {
        uint64_t t0 = bf::prof::begin();
        for (int i = 0; i < ops; i++) fn();
        per.push_back(double(bf::prof::begin() - t0) / ops);
    }
    std::sort(per.begin(), per.end());
    return per[per.size() / 2];
}

}  // namespace

int run_bench_runtime(uint64_t us_at_main) {
    const char *where = bf::bare_metal() ? "bare-metal" : "hosted";
    constexpr int kBatches = 7, kOps = 20000;
    double sys = median_cycles_per_op(kBatches, kOps, [] { syscall(SYS_getppid); });
    static bf::prof::Region r{"bench", 0, 0, ~0ull, 0};
    double prof = median_cycles_per_op(kBatches, kOps, [] {
        uint64_t t = bf::prof::begin();
        asm volatile("");
        bf::prof::end(&r, t);
    });
    double none = median_cycles_per_op(kBatches, kOps, [] { asm volatile(""); });
    double khz = double(bf::tsc_hz()) / 1000;
    std::printf("bench-runtime: %s, TSC %.0f kHz, medians of %d batches of %d\n", where, khz,
                kBatches, kOps);
    std::printf("bench-runtime: syscall round trip (getppid)  %8.0f cycles  %8.3f us\n", sys,
                sys / khz * 1000);
    std::printf("bench-runtime: profiled empty region         %8.0f cycles (loop alone %.0f)\n",
                prof, none);
    if (bf::bare_metal())
        std::printf("bench-runtime: first MBR instruction -> main  %.3f ms\n", us_at_main / 1000.0);
    bf::recordf("{\"record\":\"bench_runtime\",\"where\":\"%s\",\"tsc_khz\":%.0f,"
                "\"syscall_cycles\":%.1f,\"profiled_region_cycles\":%.1f,\"empty_loop_cycles\":%.1f,"
                "\"boot_to_main_us\":%llu}\n",
                where, khz, sys, prof, none, (unsigned long long)us_at_main);
    return 0;
}

}  // namespace bf::app
