// OpenBLAS on the shapes of `bareflow bench-kernels` (make bench, hosted only: the kernel ELF is
// static and never links OpenBLAS). Single-threaded (openblas_set_num_threads(1)), fp32:
// cblas_sgemv for matvec (W is d x n row-major, shape "n x d" = input x output as in
// bench-kernels) and cblas_sgemm for C = A * B. Median cycles of repeated calls within a time
// budget, in TSC cycles (TSC rate calibrated against CLOCK_MONOTONIC). Prints bench_kernel
// records with "where":"openblas" (the aot_* / jit_* keys are null; cycles, gflops, gbs hold the
// OpenBLAS figures). A benchmark: asserts nothing.
// Build: make build/bench/openblas_bench (g++ -O2 ... -lopenblas).
#include <cblas.h>
#include <x86intrin.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>
#include <vector>

extern "C" void openblas_set_num_threads(int);
extern "C" char *openblas_get_config(void);
extern "C" char *openblas_get_corename(void);

namespace {

double tsc_hz;
double budget_s = 0.2;

uint64_t tsc() {
    _mm_lfence();
    uint64_t t = __rdtsc();
    _mm_lfence();
    return t;
}

double mono() {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}

void calibrate() {
    double t0 = mono();
    uint64_t c0 = tsc();
    while (mono() - t0 < 0.1) {
    }
    tsc_hz = double(tsc() - c0) / (mono() - t0);
}

std::vector<float> rnd(size_t n, uint32_t seed) {
    std::vector<float> v(n);
    uint32_t x = seed * 2654435761u + 1;
    for (auto &f : v) {
        x = x * 1664525u + 1013904223u;
        f = float(int32_t(x >> 8) - (1 << 23)) * (1.0f / float(1 << 23));
    }
    return v;
}

template <typename Fn>
double median_cycles(Fn fn, int *runs) {
    uint64_t t0 = tsc();
    fn();
    uint64_t first = tsc() - t0, budget = uint64_t(budget_s * tsc_hz);
    std::vector<uint64_t> s;
    if (first >= budget) {
        s.push_back(first);
    } else {
        uint64_t n = std::clamp<uint64_t>(budget / std::max<uint64_t>(first, 1), 3, 1000);
        for (uint64_t i = 0; i < n; i++) {
            uint64_t t = tsc();
            fn();
            s.push_back(tsc() - t);
        }
    }
    std::sort(s.begin(), s.end());
    *runs = int(s.size());
    return double(s[s.size() / 2]);
}

void record(const char *kernel, const std::string &shape, double cycles, double flops, double bytes, int runs) {
    double sec = cycles / tsc_hz, gf = flops / sec / 1e9, gbs = bytes / sec / 1e9;
    std::printf("openblas: %-8s %-16s %12.0f cycles %9.2f GFLOPS %9.2f GB/s (%d runs)\n", kernel, shape.c_str(),
                cycles, gf, gbs, runs);
    std::printf("{\"record\":\"bench_kernel\",\"where\":\"openblas\",\"kernel\":\"%s\",\"shape\":\"%s\","
                "\"aot_cycles\":null,\"jit_cycles\":null,\"speedup\":null,\"gflops_aot\":null,\"gflops_jit\":null,"
                "\"gbs_jit\":null,\"compile_ms\":null,\"break_even_calls\":null,\"pct_of_limit\":null,"
                "\"limit\":null,\"cycles\":%.0f,\"gflops\":%.3f,\"gbs\":%.3f,\"flops\":%.0f,\"bytes\":%.0f,"
                "\"runs\":%d}\n",
                kernel, shape.c_str(), cycles, gf, gbs, flops, bytes, runs);
    std::fflush(stdout);
}

}  // namespace

int main(int argc, char **argv) {
    bool big = true;
    for (int i = 1; i < argc; i++)
        if (std::string(argv[i]) == "--no-big") big = false;
    if (const char *v = std::getenv("bench_budget_ms")) budget_s = std::max(1.0, std::atof(v)) / 1000;
    openblas_set_num_threads(1);
    calibrate();
    std::printf("openblas: %s (core %s), 1 thread, TSC %.0f kHz\n", openblas_get_config(), openblas_get_corename(),
                tsc_hz / 1000);
    std::printf("{\"record\":\"openblas_config\",\"config\":\"%s\",\"core\":\"%s\",\"tsc_khz\":%.0f}\n",
                openblas_get_config(), openblas_get_corename(), tsc_hz / 1000);
    int runs = 0;
    for (auto [n, d] : {std::pair{288, 288}, {288, 768}, {768, 288}, {288, 32000}, {768, 768}, {768, 2048},
                        {2048, 768}, {768, 32000}}) {
        auto w = rnd(size_t(n) * d, 1), x = rnd(n, 2);
        std::vector<float> y(d);
        double c = median_cycles(
            [&] { cblas_sgemv(CblasRowMajor, CblasNoTrans, d, n, 1.0f, w.data(), n, x.data(), 1, 0.0f, y.data(), 1); },
            &runs);
        record("matvec", std::to_string(n) + "x" + std::to_string(d), c, 2.0 * n * d, 4.0 * (double(n) * d + n + d),
               runs);
    }
    // C = A * B (B k x n) or, trans, C = A * W^T (W n x k); shape "m x n x k", "T" when trans.
    auto sgemm_case = [&](int m, int n, int k, bool trans) {
        auto a = rnd(size_t(m) * k, 3), b = rnd(size_t(k) * n, 4);
        std::vector<float> cm(size_t(m) * n);
        double c = median_cycles(
            [&] {
                cblas_sgemm(CblasRowMajor, CblasNoTrans, trans ? CblasTrans : CblasNoTrans, m, n, k, 1.0f, a.data(), k,
                            b.data(), trans ? k : n, 0.0f, cm.data(), n);
            },
            &runs);
        record("sgemm", std::to_string(m) + "x" + std::to_string(n) + "x" + std::to_string(k) + (trans ? "T" : ""), c,
               2.0 * m * n * k, 4.0 * (double(m) * k + double(n) * k + double(m) * n), runs);
    };
    for (int m : {256, 1024, 2048})
        if (m < 2048 || big) sgemm_case(m, m, m, false);
    // A prompt batch of 32 positions times a weight matrix.
    for (auto [n, k] : {std::pair{768, 768}, {2048, 768}, {32000, 768}}) sgemm_case(32, n, k, true);
    return 0;
}
