// Quick benchmark of the tensor kernels (not a test: prints numbers, asserts nothing).
// ref:: loops vs the optimized kernels: matvec 768x2048 and 32000x768 (d x n), sgemm 256^3 and
// 1024^3 (A*B and A*B^T), and for scale attention, swiglu, softmax. Prints the median of repeated
// runs (each case runs for ~0.3 s and at least 3 times; the slow reference sgemm at 1024^3 runs
// once) and GFLOPS = 2*m*n*k / time (2*n*d for matvec).
//
// Build by hand from the repository root (mkdir -p build first):
//   X=/usr/lib/llvm-19/bin/clang++
//   C="jit/kernels/kernels.cpp jit/kernels/sgemm.cpp jit/kernels/kernels_ref.cpp"
//   (a) the AOT baseline (x86-64, SSE2):
//   $X -std=c++20 -O2 -Iapp/kernels tests/bench/kernels_bench.cpp $C -o build/kbench-o2
//   (b) what the JIT approximates (host CPU; 16 lanes on an AVX-512 host, leave the -D out on
//       an AVX2 one and add -DBF_KERN_GEMM_NR=16):
//   $X -std=c++20 -O3 -march=native -DBF_KERN_VEC_FLOATS=16 -Iapp/kernels \
//      tests/bench/kernels_bench.cpp $C -o build/kbench-native
//   build/kbench-o2 O2; build/kbench-native native
// Arguments: a label printed on each line; "quick" as the second skips the 1024^3 reference.
//
// (c) The JIT's actual path, -O1 bitcode re-optimized at -O3 for a CPU, can be imitated with opt
// and llc (the sed drops the x86-64 target attributes clang writes into each function, which
// would otherwise pin the baseline CPU; the JIT has to do the same):
//   for f in kernels sgemm kernels_ref; do
//     $X -std=c++20 -O1 -emit-llvm -S -fno-exceptions -fno-rtti -DBF_KERN_VEC_FLOATS=16 \
//        jit/kernels/$f.cpp -o build/$f.ll
//     sed -i -E 's/"(target-cpu|target-features|tune-cpu)"="[^"]*"//g' build/$f.ll
//     /usr/lib/llvm-19/bin/opt -O3 -mtriple=x86_64-pc-linux-gnu -mcpu=znver4 build/$f.ll -o build/$f.bc
//     /usr/lib/llvm-19/bin/llc -O3 -mcpu=znver4 -relocation-model=pic -filetype=obj build/$f.bc -o build/$f.o
//   done
//   $X -std=c++20 -O2 -Iapp/kernels tests/bench/kernels_bench.cpp build/kernels.o build/sgemm.o \
//      build/kernels_ref.o -o build/kbench-jit && build/kbench-jit jit
#include "kernels.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <algorithm>
#include <vector>

namespace {

double now() {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}

template <class F>
double median_time(F f, double budget, int min_runs, int max_runs) {
    std::vector<double> t;
    const double start = now();
    while (int(t.size()) < max_runs && (int(t.size()) < min_runs || now() - start < budget)) {
        const double t0 = now();
        f();
        t.push_back(now() - t0);
    }
    std::sort(t.begin(), t.end());
    return t[t.size() / 2];
}

std::vector<float> rnd(size_t n, unsigned seed) {
    std::vector<float> v(n);
    for (auto &x : v) {
        seed = seed * 1664525u + 1013904223u;
        x = float(seed >> 8) / float(1u << 24) - 0.5f;
    }
    return v;
}

const char *label = "";
volatile float sink;

void row(const char *what, const char *impl, double flops, double secs) {
    printf("%-12s %-22s %-5s %10.3f ms %8.2f GFLOPS\n", label, what, impl, secs * 1e3,
           flops / secs * 1e-9);
    fflush(stdout);
}

void bench_matvec(int n, int d) {
    auto w = rnd(size_t(n) * d, 1), x = rnd(n, 2);
    std::vector<float> out(d);
    char what[64];
    snprintf(what, sizeof what, "matvec %dx%d", d, n);
    const double flops = 2.0 * n * d;
    row(what, "ref", flops, median_time([&] { bf::kern::ref::matvec(out.data(), x.data(), w.data(), n, d); sink = out[0]; }, 0.3, 3, 50));
    row(what, "opt", flops, median_time([&] { bf::kern::matvec(out.data(), x.data(), w.data(), n, d); sink = out[0]; }, 0.3, 3, 200));
}

void bench_sgemm(int s, bool trans_b, bool ref_once) {
    auto a = rnd(size_t(s) * s, 3), b = rnd(size_t(s) * s, 4);
    std::vector<float> c(size_t(s) * s);
    char what[64];
    snprintf(what, sizeof what, "sgemm %d^3 %s", s, trans_b ? "A*B^T" : "A*B");
    const double flops = 2.0 * s * s * s;
    auto ref = [&] { bf::kern::ref::sgemm(c.data(), a.data(), b.data(), s, s, s, trans_b); sink = c[0]; };
    auto opt = [&] { bf::kern::sgemm(c.data(), a.data(), b.data(), s, s, s, trans_b); sink = c[0]; };
    if (ref_once) row(what, "ref", flops, median_time(ref, 0.0, 1, 1));
    else row(what, "ref", flops, median_time(ref, 0.3, 3, 50));
    row(what, "opt", flops, median_time(opt, 0.3, 3, 200));
}

// The smaller kernels, time only (GFLOPS column: element or multiply-add count / time, for scale).
void bench_misc() {
    const int pos = 511, nh = 12, hs = 64, len = pos + 1;  // stories110M at position 511
    auto q = rnd(nh * hs, 5), kc = rnd(size_t(len) * nh * hs, 6), vc = rnd(size_t(len) * nh * hs, 7);
    std::vector<float> out(nh * hs), att(size_t(nh) * len);
    const double aflops = 4.0 * nh * len * hs;
    row("attention 12x64 @511", "ref", aflops, median_time([&] { bf::kern::ref::attention(out.data(), att.data(), q.data(), kc.data(), vc.data(), pos, nh, nh, hs, 0, nh); sink = out[0]; }, 0.2, 3, 500));
    row("attention 12x64 @511", "opt", aflops, median_time([&] { bf::kern::attention(out.data(), att.data(), q.data(), kc.data(), vc.data(), pos, nh, nh, hs, 0, nh); sink = out[0]; }, 0.2, 3, 500));
    const int n = 5632;
    // In place: each run starts from a fresh copy of the input (included in the time), otherwise
    // repeated swiglu drives the values into the (slow) subnormal range.
    auto h0 = rnd(n, 8), g = rnd(n, 9), h = h0;
    for (auto &v : h0) v *= 16.0f;
    row("swiglu 5632", "ref", n, median_time([&] { h = h0; bf::kern::ref::swiglu(h.data(), g.data(), n); sink = h[0]; }, 0.2, 3, 2000));
    row("swiglu 5632", "opt", n, median_time([&] { h = h0; bf::kern::swiglu(h.data(), g.data(), n); sink = h[0]; }, 0.2, 3, 2000));
    auto x0 = rnd(32000, 10), x = x0;
    for (auto &v : x0) v *= 20.0f;
    row("softmax 32000", "ref", 32000, median_time([&] { x = x0; bf::kern::ref::softmax(x.data(), 32000); sink = x[0]; }, 0.2, 3, 2000));
    row("softmax 32000", "opt", 32000, median_time([&] { x = x0; bf::kern::softmax(x.data(), 32000); sink = x[0]; }, 0.2, 3, 2000));
}

}  // namespace

int main(int argc, char **argv) {
    if (argc > 1) label = argv[1];
    const bool quick = argc > 2 && strcmp(argv[2], "quick") == 0;
    bench_matvec(2048, 768);   // llama2 110M-ish FFN: W is 768 x 2048
    bench_matvec(768, 32000);  // classifier: W is 32000 x 768
    bench_misc();
    bench_sgemm(256, false, false);
    bench_sgemm(256, true, false);
    if (!quick) {
        bench_sgemm(1024, false, true);
        bench_sgemm(1024, true, true);
    } else {
        auto a = rnd(size_t(1024) * 1024, 3), b = rnd(size_t(1024) * 1024, 4);
        std::vector<float> c(size_t(1024) * 1024);
        for (bool tb : {false, true})
            row(tb ? "sgemm 1024^3 A*B^T" : "sgemm 1024^3 A*B", "opt", 2.0 * 1024 * 1024 * 1024,
                median_time([&] { bf::kern::sgemm(c.data(), a.data(), b.data(), 1024, 1024, 1024, tb); sink = c[0]; }, 0.3, 3, 50));
    }
    return 0;
}
