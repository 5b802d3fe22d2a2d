// `bareflow jit-selftest`: every kernel through the dispatch table until it is hot, compiled by the
// JIT for this CPU and swapped in; then its results must equal the reference loops' (within the
// kernels' tolerance). Prints the target, the swaps and the AOT-vs-JIT table.
// Options: BAREFLOW.CFG and the environment (on bare metal, key=value words on the kernel command
// line): jit=off  jit_cache=off|clear  jit_hot_calls=N (default 8 here)  jit_hot_cycles=N
// jit_tune=off (default here: each case checks JIT code)  jit_variant=NAME|all (all: every
// variant the CPU offers, each checked against the reference loops)  jit_compile=inline|background
// (background, threads=1 on a machine with more cores: the kernels compile on the spare core while
// the cases run on AOT code; then every case runs again on the code it compiled)
#include "selftest.h"

#include "jit_setup.h"

#include "jit/dispatch.h"
#include "jit/jit.h"
#include "jit/kernels/quant.h"

#include <cmath>
#include <cstddef>
#include <malloc.h>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <tuple>
#include <vector>

namespace bf::app {

namespace {

int failures;

std::vector<float> rnd(size_t n, unsigned seed) {
    std::mt19937 g(seed);
    std::uniform_real_distribution<float> d(-1.0f, 1.0f);
    std::vector<float> v(n);
    for (auto &x : v) x = d(g);
    return v;
}

// |a - b| <= 1e-4 * max(|a|, |b|) + 1e-5 * scale, scale ~ sqrt(reduction length)
void expect_close(const char *what, const std::vector<float> &got, const std::vector<float> &want, float scale) {
    double worst = 0;
    bool ok = got.size() == want.size();
    for (size_t i = 0; ok && i < got.size(); i++) {
        double a = got[i], b = want[i], d = std::fabs(a - b);
        double tol = 1e-4 * std::fmax(std::fabs(a), std::fabs(b)) + 1e-5 * scale;
        if (!(d <= tol)) ok = false;
        double rel = d / (std::fmax(std::fabs(b), 1e-6));
        if (rel > worst) worst = rel;
    }
    std::printf("jit-selftest: %-28s JIT result matches the reference: %s\n", what, ok ? "ok" : "FAILED");
    if (!ok) {
        failures++;
        std::printf("jit-selftest: %s: worst relative difference %g\n", what, worst);
    }
}

// Every kernel through the dispatch table `reps` times (hot after hot_calls), checked against its
// reference loop.
void run_cases(int reps) {
    namespace K = bf::kern;
    namespace D = bf::kern::dispatch;
    for (auto [n, d] : {std::pair{96, 80}, std::pair{288, 288}}) {
        auto w = rnd(size_t(n) * d, 1), x = rnd(n, 2);
        std::vector<float> want(d), got(d);
        K::ref::matvec(want.data(), x.data(), w.data(), n, d);
        for (int r = 0; r < reps; r++) D::matvec(got.data(), x.data(), w.data(), n, d);
        expect_close(("matvec " + std::to_string(n) + "x" + std::to_string(d)).c_str(), got, want, std::sqrt(float(n)));
    }
    for (auto [m, n, k, t] : {std::tuple{33, 17, 65, false}, std::tuple{64, 48, 80, true}}) {
        auto a = rnd(size_t(m) * k, 3), b = rnd(size_t(n) * k, 4);
        std::vector<float> want(size_t(m) * n), got(size_t(m) * n);
        K::ref::sgemm(want.data(), a.data(), b.data(), m, n, k, t);
        for (int r = 0; r < reps; r++) D::sgemm(got.data(), a.data(), b.data(), m, n, k, t);
        expect_close(("sgemm " + std::to_string(m) + "x" + std::to_string(n) + "x" + std::to_string(k) + (t ? " B^T" : "")).c_str(),
                     got, want, std::sqrt(float(k)));
    }
    {
        auto x = rnd(288, 5), w = rnd(288, 6);
        std::vector<float> want(288), got(288);
        K::ref::rmsnorm(want.data(), x.data(), w.data(), 288, 1e-5f);
        for (int r = 0; r < reps; r++) D::rmsnorm(got.data(), x.data(), w.data(), 288, 1e-5f);
        expect_close("rmsnorm 288", got, want, 1);
    }
    {
        auto x = rnd(100, 7);
        std::vector<float> want = x, got;
        K::ref::softmax(want.data(), 100);
        for (int r = 0; r < reps; r++) {
            got = x;
            D::softmax(got.data(), 100);
        }
        expect_close("softmax 100", got, want, 1);
    }
    {
        auto q0 = rnd(288, 8), k0 = rnd(96, 9);
        std::vector<float> qw = q0, kw = k0, qg, kg;
        K::ref::rope(qw.data(), kw.data(), 17, 288, 96, 48, 10000.0f, nullptr);
        for (int r = 0; r < reps; r++) {
            qg = q0;
            kg = k0;
            D::rope(qg.data(), kg.data(), 17, 288, 96, 48, 10000.0f, nullptr);
        }
        expect_close("rope 288/96/48 (q)", qg, qw, 1);
        expect_close("rope 288/96/48 (k)", kg, kw, 1);
        qw = q0, kw = k0;
        K::ref::rope_neox(qw.data(), kw.data(), 17, 288, 96, 48, 1000000.0f);
        for (int r = 0; r < reps; r++) {
            qg = q0;
            kg = k0;
            D::rope_neox(qg.data(), kg.data(), 17, 288, 96, 48, 1000000.0f);
        }
        expect_close("rope_neox 288/96/48 (q)", qg, qw, 1);
        expect_close("rope_neox 288/96/48 (k)", kg, kw, 1);
    }
    {
        int nh = 6, nkv = 2, hs = 48, pos = 20, kv = nkv * hs;
        auto q = rnd(size_t(nh) * hs, 10), kc = rnd(size_t(pos + 1) * kv, 11), vc = rnd(size_t(pos + 1) * kv, 12);
        std::vector<float> want(size_t(nh) * hs), got(size_t(nh) * hs), att(size_t(nh) * (pos + 1));
        K::ref::attention(want.data(), att.data(), q.data(), kc.data(), vc.data(), pos, nh, nkv, hs, 0, nh);
        for (int r = 0; r < reps; r++) D::attention(got.data(), att.data(), q.data(), kc.data(), vc.data(), pos, nh, nkv, hs, 0, nh);
        expect_close("attention 6/2/48 at pos 20", got, want, std::sqrt(float(hs)));
    }
    {
        auto h0 = rnd(768, 13), g = rnd(768, 14);
        std::vector<float> want = h0, got;
        K::ref::swiglu(want.data(), g.data(), 768);
        for (int r = 0; r < reps; r++) {
            got = h0;
            D::swiglu(got.data(), g.data(), 768);
        }
        expect_close("swiglu 768", got, want, 1);
        std::vector<float> wa = h0, ga, wm = h0, gm;
        K::ref::add(wa.data(), g.data(), 768);
        K::ref::mul(wm.data(), g.data(), 768);
        for (int r = 0; r < reps; r++) {
            ga = h0;
            gm = h0;
            D::add(ga.data(), g.data(), 768);
            D::mul(gm.data(), g.data(), 768);
        }
        expect_close("add 768", ga, wa, 1);
        expect_close("mul 768", gm, wm, 1);
    }
    // Quantized weights: random blocks with sane fp16 scales (the first field of each block).
    namespace Q = bf::kern::quant;
    auto blocks = [](uint32_t type, int rows, int cols, unsigned seed) {
        const size_t nb = size_t(rows) * size_t(cols) / size_t(Q::block_size(type)), bb = size_t(Q::block_bytes(type));
        std::vector<unsigned char> b(nb * bb);
        std::mt19937 g(seed);
        for (auto &c : b) c = static_cast<unsigned char>(g());
        // Offsets of the fp16 scale (d) and min scale (m / dmin) fields; -1: none.
        int od = 0, om = -1;
        switch (type) {
        case Q::Q4_1: case Q::Q5_1: case Q::Q4_K: case Q::Q5_K: om = 2; break;
        case Q::Q2_K: od = offsetof(Q::block_q2_K, d), om = offsetof(Q::block_q2_K, dmin); break;
        case Q::Q3_K: od = offsetof(Q::block_q3_K, d); break;
        case Q::Q6_K: od = offsetof(Q::block_q6_K, d); break;
        default: break;
        }
        for (size_t i = 0; i < nb; i++)
            for (int off : {od, om}) {
                if (off < 0) continue;
                const Q::fp16_t d = Q::fp32_to_fp16(0.001f + float(g() % 1000) * 1e-5f);
                std::memcpy(&b[i * bb + size_t(off)], &d, 2);
            }
        for (size_t i = 0; type == Q::Q4_0_X8 && i < nb; i++)  // a group's other 7 scales
            for (int k = 1; k < 8; k++) {
                const Q::fp16_t d = Q::fp32_to_fp16(0.001f + float(g() % 1000) * 1e-5f);
                std::memcpy(&b[i * bb + size_t(2 * k)], &d, 2);
            }
        return b;
    };
    {
        const int n = 288, d = 96;
        auto x = rnd(n, 15);
        std::vector<unsigned char> xq_want(size_t(n / 32) * 34), xq(xq_want.size());
        K::ref::quantize_q8_0(xq_want.data(), x.data(), n);
        for (int r = 0; r < reps; r++) D::quantize_q8_0(xq.data(), x.data(), n);
        std::printf("jit-selftest: %-28s JIT result matches the reference: %s\n", "quantize_q8_0 288",
                    xq == xq_want ? "ok" : "FAILED");
        failures += xq != xq_want;
        using MV = void (*)(float *, const void *, const void *, int, int);
        const std::tuple<const char *, uint32_t, MV, MV> cases[] = {
            {"matvec_q8_0 288x96", Q::Q8_0, K::ref::matvec_q8_0, D::matvec_q8_0},
            {"matvec_q4_0 288x96", Q::Q4_0, K::ref::matvec_q4_0, D::matvec_q4_0},
            {"matvec_q5_0 288x96", Q::Q5_0, K::ref::matvec_q5_0, D::matvec_q5_0}};
        for (auto [name, type, ref, fast] : cases) {
            auto w = blocks(type, d, n, 16 + type);
            std::vector<float> want(d), got(d);
            ref(want.data(), xq_want.data(), w.data(), n, d);
            for (int r = 0; r < reps; r++) fast(got.data(), xq_want.data(), w.data(), n, d);
            expect_close(name, got, want, std::sqrt(float(n)));
        }
        std::vector<Q::fp16_t> xh_want(n), xh(n), wh(size_t(n) * d);
        K::ref::to_f16(xh_want.data(), x.data(), n);
        for (int r = 0; r < reps; r++) D::to_f16(xh.data(), x.data(), n);
        std::printf("jit-selftest: %-28s JIT result matches the reference: %s\n", "to_f16 288", xh == xh_want ? "ok" : "FAILED");
        failures += xh != xh_want;
        auto wf = rnd(wh.size(), 17);
        K::ref::to_f16(wh.data(), wf.data(), int(wh.size()));
        std::vector<float> want(d), got(d);
        K::ref::matvec_f16(want.data(), xh_want.data(), wh.data(), n, d);
        for (int r = 0; r < reps; r++) D::matvec_f16(got.data(), xh_want.data(), wh.data(), n, d);
        expect_close("matvec_f16 288x96", got, want, std::sqrt(float(n)));
    }
    {
        // The other weight types: activation quantizers bit for bit, matvecs to rounding.
        using MV = void (*)(float *, const void *, const void *, int, int);
        using QZ = void (*)(void *, const float *, int);
        struct Family {
            const char *qname;
            QZ ref_q, fast_q;
            int n;
            size_t xq_bytes;
            std::vector<std::tuple<const char *, uint32_t, MV, MV>> mv;
        };
        const int d = 96;
        const Family fams[] = {
            {"quantize_q8_1 288", K::ref::quantize_q8_1, D::quantize_q8_1, 288, 288 / 32 * sizeof(Q::block_q8_1),
             {{"matvec_q4_1 288x96", Q::Q4_1, K::ref::matvec_q4_1, D::matvec_q4_1},
              {"matvec_q5_1 288x96", Q::Q5_1, K::ref::matvec_q5_1, D::matvec_q5_1}}},
            {"quantize_q8_k 512", K::ref::quantize_q8_k, D::quantize_q8_k, 512, 2 * sizeof(Q::block_q8_K),
             {{"matvec_q2_k 512x96", Q::Q2_K, K::ref::matvec_q2_k, D::matvec_q2_k},
              {"matvec_q3_k 512x96", Q::Q3_K, K::ref::matvec_q3_k, D::matvec_q3_k},
              {"matvec_q4_k 512x96", Q::Q4_K, K::ref::matvec_q4_k, D::matvec_q4_k},
              {"matvec_q5_k 512x96", Q::Q5_K, K::ref::matvec_q5_k, D::matvec_q5_k},
              {"matvec_q6_k 512x96", Q::Q6_K, K::ref::matvec_q6_k, D::matvec_q6_k}}},
            {"quantize_q8_0 512", K::ref::quantize_q8_0, D::quantize_q8_0, 512, 512 / 32 * sizeof(Q::block_q8_0),
             {{"matvec_q4_0x8 512x96", Q::Q4_0_X8, K::ref::matvec_q4_0x8, D::matvec_q4_0x8}}},
            {"to_bf16 288", K::ref::to_bf16, D::to_bf16, 288, 288 * 2,
             {{"matvec_bf16 288x96", Q::BF16, K::ref::matvec_bf16, D::matvec_bf16}}},
        };
        for (const Family &f : fams) {
            auto x = rnd(size_t(f.n), 21);
            std::vector<unsigned char> xq_want(f.xq_bytes), xq(f.xq_bytes);
            f.ref_q(xq_want.data(), x.data(), f.n);
            for (int r = 0; r < reps; r++) f.fast_q(xq.data(), x.data(), f.n);
            std::printf("jit-selftest: %-28s JIT result matches the reference: %s\n", f.qname,
                        xq == xq_want ? "ok" : "FAILED");
            failures += xq != xq_want;
            for (auto [name, type, ref, fast] : f.mv) {
                std::vector<unsigned char> w;
                if (type == Q::BF16) {  // random bf16 weights: any bit pattern could be NaN
                    auto wf = rnd(size_t(f.n) * d, 22);
                    w.resize(wf.size() * 2);
                    K::ref::to_bf16(w.data(), wf.data(), int(wf.size()));
                } else {
                    w = blocks(type, d, f.n, 16 + type);
                }
                std::vector<float> want(d), got(d);
                ref(want.data(), xq_want.data(), w.data(), f.n, d);
                for (int r = 0; r < reps; r++) fast(got.data(), xq_want.data(), w.data(), f.n, d);
                expect_close(name, got, want, std::sqrt(float(f.n)));
            }
        }
    }
    {
        // The prompt path's matmats: 7 positions (a tile of 4, then 3) against 33 rows, each type
        // on activations from its reference quantizer.
        using MM = void (*)(float *, const void *, const void *, int, int, int);
        using QZ = void (*)(void *, const float *, int);
        struct Case {
            const char *name;
            uint32_t type;
            MM ref, fast;
            QZ quantize;
            int n;
            size_t row_bytes;  // of one activation row
        };
        const size_t q80 = 288 / 32 * sizeof(Q::block_q8_0), q81 = 288 / 32 * sizeof(Q::block_q8_1);
        const size_t q8k = 512 / 256 * sizeof(Q::block_q8_K);
        const Case cases[] = {
            {"matmat_q8_0 288x33 m7", Q::Q8_0, K::ref::matmat_q8_0, D::matmat_q8_0, K::ref::quantize_q8_0, 288, q80},
            {"matmat_q4_0 288x33 m7", Q::Q4_0, K::ref::matmat_q4_0, D::matmat_q4_0, K::ref::quantize_q8_0, 288, q80},
            {"matmat_q4_0x8 512x33 m7", Q::Q4_0_X8, K::ref::matmat_q4_0x8, D::matmat_q4_0x8, K::ref::quantize_q8_0, 512,
             512 / 32 * sizeof(Q::block_q8_0)},
            {"matmat_q5_0 288x33 m7", Q::Q5_0, K::ref::matmat_q5_0, D::matmat_q5_0, K::ref::quantize_q8_0, 288, q80},
            {"matmat_q4_1 288x33 m7", Q::Q4_1, K::ref::matmat_q4_1, D::matmat_q4_1, K::ref::quantize_q8_1, 288, q81},
            {"matmat_q5_1 288x33 m7", Q::Q5_1, K::ref::matmat_q5_1, D::matmat_q5_1, K::ref::quantize_q8_1, 288, q81},
            {"matmat_q2_k 512x33 m7", Q::Q2_K, K::ref::matmat_q2_k, D::matmat_q2_k, K::ref::quantize_q8_k, 512, q8k},
            {"matmat_q3_k 512x33 m7", Q::Q3_K, K::ref::matmat_q3_k, D::matmat_q3_k, K::ref::quantize_q8_k, 512, q8k},
            {"matmat_q4_k 512x33 m7", Q::Q4_K, K::ref::matmat_q4_k, D::matmat_q4_k, K::ref::quantize_q8_k, 512, q8k},
            {"matmat_q5_k 512x33 m7", Q::Q5_K, K::ref::matmat_q5_k, D::matmat_q5_k, K::ref::quantize_q8_k, 512, q8k},
            {"matmat_q6_k 512x33 m7", Q::Q6_K, K::ref::matmat_q6_k, D::matmat_q6_k, K::ref::quantize_q8_k, 512, q8k},
            {"matmat_f16 288x33 m7", Q::F16, K::ref::matmat_f16, D::matmat_f16, K::ref::to_f16, 288, 288 * 2},
            {"matmat_bf16 288x33 m7", Q::BF16, K::ref::matmat_bf16, D::matmat_bf16, K::ref::to_bf16, 288, 288 * 2},
        };
        const int d = 33, m = 7;
        for (const Case &c : cases) {
            auto x = rnd(size_t(c.n) * m, 23);
            std::vector<unsigned char> xq(c.row_bytes * m), w;
            for (int p = 0; p < m; p++) c.quantize(xq.data() + p * c.row_bytes, x.data() + size_t(p) * c.n, c.n);
            if (c.type == Q::F16 || c.type == Q::BF16) {  // real values: random bits could be NaN
                auto wf = rnd(size_t(c.n) * d, 24);
                w.resize(wf.size() * 2);
                (c.type == Q::F16 ? K::ref::to_f16 : K::ref::to_bf16)(w.data(), wf.data(), int(wf.size()));
            } else {
                w = blocks(c.type, d, c.n, 25 + c.type);
            }
            std::vector<float> want(size_t(d) * m), got(want.size());
            c.ref(want.data(), xq.data(), w.data(), c.n, d, m);
            for (int r = 0; r < reps; r++) c.fast(got.data(), xq.data(), w.data(), c.n, d, m);
            expect_close(c.name, got, want, std::sqrt(float(c.n)));
        }
    }
    {
        int nh = 6, nkv = 2, hs = 48, pos = 20, kv = nkv * hs;
        auto q = rnd(size_t(nh) * hs, 18), kf = rnd(size_t(pos + 1) * kv, 19), vf = rnd(size_t(pos + 1) * kv, 20);
        std::vector<Q::fp16_t> kc(kf.size()), vc(vf.size());
        K::ref::to_f16(kc.data(), kf.data(), int(kf.size()));
        K::ref::to_f16(vc.data(), vf.data(), int(vf.size()));
        std::vector<float> want(size_t(nh) * hs), got(size_t(nh) * hs), att(size_t(nh) * (pos + 1));
        K::ref::attention_f16(want.data(), att.data(), q.data(), kc.data(), vc.data(), pos, nh, nkv, hs, 0, nh);
        for (int r = 0; r < reps; r++)
            D::attention_f16(got.data(), att.data(), q.data(), kc.data(), vc.data(), pos, nh, nkv, hs, 0, nh);
        expect_close("attention_f16 6/2/48 at 20", got, want, std::sqrt(float(hs)));
    }
}

}  // namespace

int run_jit_selftest(const Settings &settings) {
    bf::jit::Options o = jit_options_from_config(settings);
    if (settings.jit_hot_calls < 0) o.hot_calls = 8;  // hot quickly: the checks call each kernel a few times
    // Each case checks the JIT's code: no trial (it would alternate with AOT), unless asked for.
    if (settings.jit_tune == JitTune::Unset) o.tune = bf::jit::Options::Tune::Off;
    const bool every_variant = settings.jit_variant == "all";
    if (every_variant) o.variant.clear();
    size_t heap0 = mallinfo2().uordblks + mallinfo2().hblkhd;
    if (!start_jit(o)) return 1;
    int reps = int(o.hot_calls) + 4;
    if (!every_variant) {
        run_cases(reps);
        if (bf::jit::trials_running()) {  // compiled on a spare core (jit_compile=background, threads < cores)
            std::printf("jit-selftest: waiting for %d kernels compiling on a spare core, then every case again\n",
                        bf::jit::trials_running());
            bf::jit::wait_compiles();
            run_cases(reps);
        }
    } else {  // jit_variant=all: the whole set once per variant this CPU offers, each from a fresh table
        for (const bf::jit::Variant &v : bf::jit::variants()) {
            std::printf("jit-selftest: variant %s\n", v.name);
            bf::jit::force_variant(v.name);
            bf::jit::reset_slots();
            run_cases(reps);
        }
    }

    // Every registry row must have a case above: a kernel added without one fails here.
    for (int k = 0; k < bf::jit::kKernels; k++) {
        bool seen = false;
        for (int i = 0; i < bf::jit::slot_count(); i++) seen = seen || bf::jit::slot_at(i)->kernel == k;
        if (!seen) {
            std::printf("jit-selftest: kernel %s has no case here (app/selftest/jit_selftest.cpp): FAILED\n",
                        bf::jit::kernel_name(k));
            failures++;
        }
    }
    bf::jit::report();
    size_t heap1 = mallinfo2().uordblks + mallinfo2().hblkhd;
    std::printf("jit-selftest: LLVM heap in use after %d kernels: %.1f MiB\n", bf::jit::slot_count(),
                double(heap1 - heap0) / 1048576.0);
    auto s = bf::jit::stats();
    std::printf("jit-selftest: %llu compiled, %llu linked from the cache, %llu cache entries rejected\n",
                static_cast<unsigned long long>(s.compiled), static_cast<unsigned long long>(s.cache_hits),
                static_cast<unsigned long long>(s.cache_rejected));
    std::printf("jit-selftest: %s (%d failed)\n", failures ? "FAILED" : "all passed", failures);
    return failures ? 1 : 0;
}

}  // namespace bf::app
