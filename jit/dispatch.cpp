// Slots, tiering and the AOT-vs-JIT report (dispatch.h).
#include "dispatch.h"

#include "jit.h"
#include "bareflow/record.h"

#include <cstdio>
#include <cstring>
#include <vector>

namespace bf::jit {

namespace {

// One spec per registry row (jit/kernels/kernels.def).
struct Spec {
    const char *name;
    const char *symbol;  // the kernel's name in the embedded bitcode (kernels.h: asm label)
    void *aot;
    void *ref;  // the reference twin (kernels_ref.cpp, quant_ref*.cpp)
    const registry::ShapeArgs &shape;  // argument index of each shape value, in shape order
};

#define BF_KERNEL(name, params, shape) \
    {#name, "bf_kern_" #name, reinterpret_cast<void *>(&kern::name), reinterpret_cast<void *>(&kern::ref::name), \
     registry::shape_of::name},
const Spec kSpecs[kKernels] = {
#include "jit/kernels/kernels.def"
};

constexpr int kMaxSlots = 256;
Slot slots[kMaxSlots];
int nslots;
Slot overflow;  // when the table is full: AOT, profiled together
constexpr uint64_t kCompareAfter = 16;  // JIT calls before the AOT-vs-JIT line
bool tiering = true;
bool reference = false;  // use_reference_kernels(): every slot on its ref:: twin

void fresh_region(prof::Region &r, const char *name) { r = prof::Region{name, 0, 0, ~0ull, 0}; }

void add_sample(prof::Region &r, uint64_t c) {
    r.calls++;
    r.total += c;
    if (c < r.min) r.min = c;
    if (c > r.max) r.max = c;
}

const char *shape_text(const Slot *s, char *buf, size_t n) {
    if (s->kernel == k_sgemm && s->nshape == 3) {  // n x k, "T" for A * B^T (B = W is n x k)
        snprintf(buf, n, "%lldx%lld%s", static_cast<long long>(s->shape[0]), static_cast<long long>(s->shape[1]),
                 s->shape[2] ? "T" : "");
        return buf;
    }
    size_t k = 0;
    buf[0] = 0;
    for (int i = 0; i < s->nshape && k < n; i++)
        k += size_t(snprintf(buf + k, n - k, i ? "x%lld" : "%lld", static_cast<long long>(s->shape[i])));
    if (!s->nshape) snprintf(buf, n, "any");
    return buf;
}

void tier_up(Slot *s) {
    const Spec &sp = kSpecs[s->kernel];
    uint64_t t0 = prof::begin();
    char shape[40];
    shape_text(s, shape, sizeof shape);
    char label[80];
    snprintf(label, sizeof label, "%s %s", sp.name, shape);
    Compiled c = compile(sp.symbol, shape_binds(s->kernel, s->shape), label);
    s->compile_cycles = prof::begin() - t0;
    if (!c.fn) {
        s->state = 2;
        fprintf(stderr, "jit: %s %s: compile failed, staying on AOT: %s\n", sp.name, shape, c.error.c_str());
        return;
    }
    s->compile_ms = c.ms;
    s->from_cache = c.from_cache;
    s->fn.store(c.fn, std::memory_order_release);
    s->state = 1;
    uint64_t aot_mean = s->aot.calls ? s->aot.total / s->aot.calls : 0;
    fprintf(stderr, "jit: %s %s swapped to %s code for %s in %.2f ms (%s); AOT mean %llu cycles over %llu calls\n",
           sp.name, shape, c.from_cache ? "cached" : "new", cpu_name().c_str(), c.ms,
           c.from_cache ? "cache hit" : "compiled", static_cast<unsigned long long>(aot_mean),
           static_cast<unsigned long long>(s->aot.calls));
    recordf("{\"record\":\"jit_swap\",\"kernel\":\"%s\",\"shape\":\"%s\",\"cpu\":\"%s\",\"compile_ms\":%.3f,"
           "\"from_cache\":%s,\"key\":\"%s\",\"aot_calls\":%llu,\"aot_mean_cycles\":%llu}\n",
           sp.name, shape, cpu_name().c_str(), c.ms, c.from_cache ? "true" : "false", c.key.c_str(),
           static_cast<unsigned long long>(s->aot.calls), static_cast<unsigned long long>(aot_mean));
}

void compare(Slot *s) {
    s->compared = true;
    char shape[40];
    shape_text(s, shape, sizeof shape);
    double aot = s->aot.calls ? double(s->aot.total) / double(s->aot.calls) : 0;
    double jitc = double(s->jit.total) / double(s->jit.calls);
    fprintf(stderr, "jit: %s %s: AOT %.0f cycles/call, JIT %.0f cycles/call over the next %llu calls (%.2fx)\n",
           kSpecs[s->kernel].name, shape, aot, jitc, static_cast<unsigned long long>(s->jit.calls),
           jitc > 0 ? aot / jitc : 0.0);
}

}  // namespace

const char *kernel_name(int kernel) { return kSpecs[kernel].name; }
const char *kernel_symbol(int kernel) { return kSpecs[kernel].symbol; }
void *kernel_aot(int kernel) { return kSpecs[kernel].aot; }

int arg_index(int kernel, std::string_view param) {
#define BF_KERNEL(name, params, shape) #params,
    static constexpr std::string_view kParams[kKernels] = {
#include "jit/kernels/kernels.def"
    };
    const registry::Names n = registry::names(kParams[kernel]);
    for (int i = 0; i < n.n; i++)
        if (n.v[size_t(i)] == param) return i;
    return -1;
}

std::vector<std::pair<int, int64_t>> shape_binds(int kernel, const int64_t *shape) {
    const registry::ShapeArgs &sa = kSpecs[kernel].shape;
    std::vector<std::pair<int, int64_t>> binds;
    for (int i = 0; i < sa.n; i++) binds.push_back({sa.index[size_t(i)], shape[i]});
    return binds;
}

Slot *slot(int kernel, const int64_t *shape, int nshape) {
    for (int i = 0; i < nslots; i++) {
        Slot &s = slots[i];
        if (s.kernel != kernel || s.nshape != nshape) continue;
        bool same = true;
        for (int k = 0; k < nshape; k++) same &= s.shape[k] == shape[k];
        if (same) return &s;
    }
    Slot *s = nslots < kMaxSlots ? &slots[nslots++] : &overflow;
    s->kernel = kernel;
    s->nshape = nshape;
    for (int k = 0; k < nshape; k++) s->shape[k] = shape[k];
    s->fn.store(reference ? kSpecs[kernel].ref : kSpecs[kernel].aot, std::memory_order_relaxed);
    s->state = s == &overflow ? 2 : 0;
    s->compared = s->from_cache = false;
    s->compile_ms = 0;
    s->compile_cycles = 0;
    char sh[40];
    snprintf(s->name, sizeof s->name, "%s %s", kSpecs[kernel].name, shape_text(s, sh, sizeof sh));
    fresh_region(s->aot, s->name);
    fresh_region(s->jit, s->name);
    return s;
}

void after_call(Slot *s, uint64_t cycles) {
    if (s->state == 1) {
        add_sample(s->jit, cycles);
        if (!s->compared && s->jit.calls == kCompareAfter) compare(s);
        return;
    }
    add_sample(s->aot, cycles);
    if (s->state == 0 && tiering && !reference && ready() &&
        (s->aot.calls >= options().hot_calls || s->aot.total >= options().hot_cycles))
        tier_up(s);
}

void reset_counters() {
    for (int i = 0; i < nslots; i++) {
        fresh_region(slots[i].aot, slots[i].name);
        fresh_region(slots[i].jit, slots[i].name);
        slots[i].compared = false;
    }
}

void set_tiering(bool on) { tiering = on; }

void use_reference_kernels(bool on) {
    reference = on;
    for (int i = 0; i < nslots; i++) {
        Slot &s = slots[i];
        s.fn.store(on ? kSpecs[s.kernel].ref : kSpecs[s.kernel].aot, std::memory_order_release);
        s.state = 0;
        s.compared = false;
    }
}

int slot_count() { return nslots; }
Slot *slot_at(int i) { return i >= 0 && i < nslots ? &slots[i] : nullptr; }

void report() {
    fprintf(stderr, "jit: %-26s %9s %14s %9s %14s %8s %11s %s\n", "kernel shape", "AOT calls", "AOT cyc/call",
           "JIT calls", "JIT cyc/call", "speedup", "compile ms", "break-even calls");
    for (int i = 0; i < nslots; i++) {
        Slot &s = slots[i];
        double aot = s.aot.calls ? double(s.aot.total) / double(s.aot.calls) : 0;
        double jc = s.jit.calls ? double(s.jit.total) / double(s.jit.calls) : 0;
        double speed = (aot > 0 && jc > 0) ? aot / jc : 0;
        // After how many calls the compile paid for itself (cycles saved per call vs its cost).
        long long breakeven = (aot > jc && jc > 0 && s.state == 1)
                                  ? static_cast<long long>(double(s.compile_cycles) / (aot - jc)) + 1
                                  : -1;
        if (s.state != 1) {  // never swapped: no JIT columns (not zeros that read like results)
            fprintf(stderr, "jit: %-26s %9llu %14.0f %9s %14s %8s %11s %s\n", s.name,
                   static_cast<unsigned long long>(s.aot.calls), aot, "-", "-", "-", "-",
                   s.state == 2 ? "- (JIT failed: AOT)" : "- (not hot: AOT)");
        } else {
            char be[24];
            if (breakeven < 0) snprintf(be, sizeof be, "never");
            else snprintf(be, sizeof be, "%lld", breakeven);
            fprintf(stderr, "jit: %-26s %9llu %14.0f %9llu %14.0f %7.2fx %11.2f %s%s\n", s.name,
                   static_cast<unsigned long long>(s.aot.calls), aot, static_cast<unsigned long long>(s.jit.calls),
                   jc, speed, s.compile_ms, s.jit.calls ? be : "-", s.from_cache ? " (cached)" : "");
        }
        recordf("{\"record\":\"jit_kernel\",\"kernel\":\"%s\",\"name\":\"%s\",\"state\":\"%s\",\"aot_calls\":%llu,"
               "\"aot_mean_cycles\":%.1f,\"jit_calls\":%llu,\"jit_mean_cycles\":%.1f,\"speedup\":%.3f,"
               "\"compile_ms\":%.3f,\"from_cache\":%s,\"break_even_calls\":%lld,\"cpu\":\"%s\"}\n",
               kSpecs[s.kernel].name, s.name, s.state == 1 ? "jit" : s.state == 2 ? "failed" : "aot",
               static_cast<unsigned long long>(s.aot.calls), aot, static_cast<unsigned long long>(s.jit.calls), jc,
               speed, s.compile_ms, s.from_cache ? "true" : "false", breakeven, cpu_name().c_str());
    }
}

}  // namespace bf::jit
