// Slots, tiering and the AOT-vs-JIT report (dispatch.h).
#include "dispatch.h"

#include "jit.h"
#include "bareflow/record.h"

#include <cstdio>
#include <cstring>
#include <string>
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

double search_ms_used;   // compile time spent on variants beyond the default recipe (Options::search_ms)
bool search_spent_said;
int trials;              // trials started this boot
int running;             // slots in kTrial now

void set_variant(Slot *s, const char *name) { snprintf(s->variant, sizeof s->variant, "%s", name); }

}  // namespace

std::string medians_text(const tune::Decision &d) {
    std::string t;
    for (int i = 0; i < d.n; i++) {
        char b[64];
        const double x = d.c[i].median ? double(d.c[0].median) / double(d.c[i].median) : 0;
        snprintf(b, sizeof b, "%s%s %llu", i ? ", " : "", d.c[i].name, static_cast<unsigned long long>(d.c[i].median));
        t += b;
        if (i) {
            snprintf(b, sizeof b, " (%.2fx)", x);
            t += b;
        }
    }
    return t;
}

namespace {

void decision_record(const Slot *s) {
    const tune::Decision &d = s->decision;
    std::string c;
    for (int i = 0; i < d.n; i++) {
        char b[128];
        snprintf(b, sizeof b, "%s{\"name\":\"%s\",\"median_cycles\":%llu,\"samples\":%u}", i ? "," : "", d.c[i].name,
                 static_cast<unsigned long long>(d.c[i].median), d.c[i].samples);
        c += b;
    }
    recordf("{\"record\":\"jit_decision\",\"name\":\"%s\",\"kernel\":\"%s\",\"winner\":\"%s\",\"speedup\":%.3f,"
            "\"from_cache\":%s,\"candidates\":[%s],\"cpu\":\"%s\"}\n",
            s->name, kSpecs[s->kernel].name, d.c[d.winner].name, d.speedup(), s->decided_before ? "true" : "false",
            c.c_str(), cpu_name().c_str());
}

// The result of one compile for slot s, counted (nullptr if it failed: said).
void *take(Slot *s, const Variant *v, const Compiled &c, uint64_t caller_cycles) {
    s->compile_cycles += caller_cycles;  // what the calling core spent: all of it, unless a spare core compiled
    s->compile_ms += c.ms;
    s->from_cache = s->from_cache && c.from_cache;  // "cached" only if no candidate was compiled
    if (!c.fn) {
        fprintf(stderr, "jit: %s (%s): compile failed: %s\n", s->name, v ? v->name : "default", c.error.c_str());
        return nullptr;
    }
    if (v && v != &variants()[0]) search_ms_used += c.ms;  // the search's cost (the default recipe is not)
    return c.fn;
}

// Compiles variant v (nullptr: the default recipe) for slot s on the calling core.
void *compile_for(Slot *s, const Variant *v) {
    const Spec &sp = kSpecs[s->kernel];
    uint64_t t0 = prof::begin();
    Compiled c = compile(sp.symbol, shape_binds(s->kernel, s->shape), s->name, v);
    return take(s, v, c, prof::begin() - t0);
}

// The swap into JIT code (after a trial, or without one), said on the console and as a record.
void swap_in(Slot *s, void *fn, const char *variant) {
    s->fn.store(fn, std::memory_order_release);
    s->state = kJit;
    set_variant(s, variant);
    const uint64_t aot_mean = s->aot.calls ? s->aot.total / s->aot.calls : 0;
    char shape[40];
    shape_text(s, shape, sizeof shape);
    fprintf(stderr, "jit: %s swapped to %s code for %s in %.2f ms (%s); AOT mean %llu cycles over %llu calls\n", s->name,
            s->from_cache ? "cached" : "new", cpu_name().c_str(), s->compile_ms, s->from_cache ? "cache hit" : "compiled",
            static_cast<unsigned long long>(aot_mean), static_cast<unsigned long long>(s->aot.calls));
    recordf("{\"record\":\"jit_swap\",\"kernel\":\"%s\",\"shape\":\"%s\",\"cpu\":\"%s\",\"variant\":\"%s\",\"compile_ms\":%.3f,"
            "\"from_cache\":%s,\"aot_calls\":%llu,\"aot_mean_cycles\":%llu}\n",
            kSpecs[s->kernel].name, shape, cpu_name().c_str(), variant, s->compile_ms, s->from_cache ? "true" : "false",
            static_cast<unsigned long long>(s->aot.calls), static_cast<unsigned long long>(aot_mean));
}

// An earlier boot's trial on this CPU decided for this slot: apply it, no trial, and no compile
// when the winner's object is in the cache. False if the winner is not on offer any more.
bool apply_decision(Slot *s, const tune::Decision &d) {
    s->decision = d;
    s->decided_before = true;
    const char *w = d.c[d.winner].name;
    if (d.winner == 0) {
        s->state = kKept;
        set_variant(s, "aot");
        fprintf(stderr, "jit: %s stays on AOT, as measured on an earlier boot (%s)\n", s->name, medians_text(d).c_str());
        decision_record(s);
        return true;
    }
    const Variant *v = find_variant(w);
    if (!v) return false;
    void *fn = compile_for(s, v);
    if (!fn) return false;
    fprintf(stderr, "jit: %s runs %s, the winner on an earlier boot (%s)\n", s->name, w, medians_text(d).c_str());
    swap_in(s, fn, w);
    decision_record(s);
    return true;
}

void all_compiled(Slot *s);

// Starts compile i of slot s (variant v): on the spare core, or here and now (then taken at once).
// `charge`: the search budget's ms for it, counted now when it is queued (its real time replaces
// the estimate when it is collected).
void start_compile(Slot *s, const Variant *v, double charge) {
    const int i = s->ncompiles++;
    const uint64_t t0 = prof::begin();
    s->compiling[i] = v;
    s->compiled[i] = nullptr;
    s->pending[i] = compile_start(kSpecs[s->kernel].symbol, shape_binds(s->kernel, s->shape), s->name, v, i == 0);
    s->charged[i] = 0;
    Compiled c;
    if (compile_poll(s->pending[i], c)) {  // done already (here, or from the cache)
        s->pending[i] = nullptr;
        s->compiled[i] = take(s, v, c, prof::begin() - t0);
    } else {
        s->compile_cycles += prof::begin() - t0;
        s->charged[i] = float(charge);
        search_ms_used += charge;
    }
}

// Searching: the variants that apply to the slot's kernel, while the budget lasts. Queued on the
// spare core each is charged the default recipe's compile time until its own is known.
void start_variants(Slot *s) {
    const Options &o = options();
    const std::vector<Variant> &vs = variants();
    const double estimate = s->compile_ms;  // the default recipe's, the only one in so far
    for (size_t i = 1; i < vs.size() && s->ncompiles + 1 < tune::kMaxCandidates; i++) {
        if (!variant_applies(vs[i], kSpecs[s->kernel].symbol)) continue;
        if (search_ms_used >= double(o.search_ms)) {
            if (!search_spent_said)
                fprintf(stderr, "jit: the search budget (jit_search_ms = %llu) is spent: the next kernels get the default recipe only\n",
                        static_cast<unsigned long long>(o.search_ms));
            search_spent_said = true;
            break;
        }
        start_compile(s, &vs[i], estimate);
    }
}

// Collects what the slot's compiles have finished. When all have: searching, the variants go
// next (once the default recipe is in: its time is their budget estimate, and the default recipes
// of other hot slots are not queued behind them); then all_compiled.
void collect(Slot *s) {
    bool waiting = false;
    for (int i = 0; i < s->ncompiles; i++) {
        if (!s->pending[i]) continue;
        Compiled c;
        const uint64_t t0 = prof::begin();
        if (!compile_poll(s->pending[i], c)) {
            waiting = true;
            continue;
        }
        s->pending[i] = nullptr;
        search_ms_used -= s->charged[i];
        s->compiled[i] = take(s, static_cast<const Variant *>(s->compiling[i]), c, prof::begin() - t0);
    }
    if (waiting) return;
    const Options &o = options();
    if (!s->variants_started && s->compiled[0] && o.tune == Options::Tune::Search && o.variant.empty()) {
        s->variants_started = true;
        start_variants(s);
        for (int i = 1; i < s->ncompiles; i++)
            if (s->pending[i]) return;
    }
    all_compiled(s);
}

void tier_up(Slot *s) {
    const Spec &sp = kSpecs[s->kernel];
    s->from_cache = true;
    const Options &o = options();
    const bool trial = o.tune != Options::Tune::Off && o.variant.empty();
    if (trial) {
        tune::Decision d;
        if (load_decision(decision_key(sp.symbol, shape_binds(s->kernel, s->shape)), d) && apply_decision(s, d)) return;
        s->decided_before = false;
        s->decision = tune::Decision();
    }
    // The default recipe (or the forced variant) first, then (collect) the variants. Each
    // compiles on a spare core if there is one, the calls running AOT until all are in, else
    // here and now.
    const Variant *forced = o.variant.empty() ? nullptr : find_variant(o.variant.c_str());
    const std::vector<Variant> &vs = variants();
    s->ncompiles = 0;
    s->variants_started = false;
    s->state = kCompiling;
    set_variant(s, "compiling");
    running++;
    start_compile(s, forced ? forced : vs.empty() ? nullptr : &vs[0], 0);
    collect(s);
}

// Every compile of the slot is in: swap in the default recipe, or start the trial of the
// candidates (AOT, the default recipe, the variants that compiled).
void all_compiled(Slot *s) {
    running--;
    const Options &o = options();
    const bool trial = o.tune != Options::Tune::Off && o.variant.empty();
    void *fn = s->compiled[0];
    const Variant *first = static_cast<const Variant *>(s->compiling[0]);
    if (!fn) {
        s->state = kFailed;
        set_variant(s, "aot");
        return;
    }
    const char *default_name = first ? first->name : "jit";
    if (!trial) {
        swap_in(s, fn, default_name);
        return;
    }
    tune::Decision &d = s->decision;
    d.n = 0;
    auto add = [&](const char *name, void *code) {
        snprintf(d.c[d.n].name, sizeof d.c[d.n].name, "%s", name);
        s->candidate[d.n++] = code;
    };
    add("aot", kSpecs[s->kernel].aot);
    add(default_name, fn);
    for (int i = 1; i < s->ncompiles && d.n < tune::kMaxCandidates; i++)
        if (s->compiled[i]) add(static_cast<const Variant *>(s->compiling[i])->name, s->compiled[i]);
    std::string names;
    for (int i = 0; i < d.n; i++) names += std::string(i ? ", " : "") + d.c[i].name;
    fprintf(stderr, "jit: %s: trying %s in turn on the next %d calls\n", s->name, names.c_str(),
            d.n * (tune::kWarmCalls + tune::kSamples));
    s->trial = new tune::Trial();
    s->trial->begin(d.n);
    s->state = kTrial;
    set_variant(s, "trial");
    trials++;
    running++;
    s->fn.store(s->candidate[s->trial->current()], std::memory_order_release);
}

// The trial is over: the winner stays, the decision is said, recorded and stored for next boot.
void finish_trial(Slot *s) {
    tune::Decision d = s->trial->decision();
    for (int i = 0; i < d.n; i++) memcpy(d.c[i].name, s->decision.c[i].name, sizeof d.c[i].name);
    s->decision = d;
    void *winner = s->candidate[d.winner];
    delete s->trial;
    s->trial = nullptr;
    running--;
    if (d.winner == 0) {
        s->fn.store(winner, std::memory_order_release);
        s->state = kKept;
        set_variant(s, "aot");
        fprintf(stderr, "jit: %s stays on AOT: no compiled code was %.0f%% faster (%s)\n", s->name, tune::kMargin * 100,
                medians_text(d).c_str());
    } else {
        fprintf(stderr, "jit: %s keeps %s, %.2fx AOT (%s)\n", s->name, d.c[d.winner].name, d.speedup(),
                medians_text(d).c_str());
        swap_in(s, winner, d.c[d.winner].name);
    }
    decision_record(s);
    store_decision(decision_key(kSpecs[s->kernel].symbol, shape_binds(s->kernel, s->shape)), d);
}

void trial_call(Slot *s, void *fn, uint64_t cycles) {
    int c = 0;
    while (c < s->decision.n && s->candidate[c] != fn) c++;
    add_sample(c == 0 ? s->aot : s->jit, cycles);
    const int before = s->trial->current();
    s->trial->add(c, cycles);
    if (s->trial->done()) finish_trial(s);
    else if (s->trial->current() != before) s->fn.store(s->candidate[s->trial->current()], std::memory_order_release);
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
    s->state = s == &overflow ? kFailed : kAot;
    s->compared = s->from_cache = s->decided_before = false;
    s->compile_ms = 0;
    s->compile_cycles = 0;
    set_variant(s, "aot");
    s->decision = tune::Decision();
    s->trial = nullptr;
    s->ncompiles = 0;
    char sh[40];
    snprintf(s->name, sizeof s->name, "%s %s", kSpecs[kernel].name, shape_text(s, sh, sizeof sh));
    fresh_region(s->aot, s->name);
    fresh_region(s->jit, s->name);
    return s;
}

void after_call(Slot *s, void *fn, uint64_t cycles) {
    if (s->state == kTrial) return trial_call(s, fn, cycles);
    if (s->state == kCompiling) {
        add_sample(s->aot, cycles);
        return collect(s);
    }
    if (s->state == kJit) {
        add_sample(s->jit, cycles);
        if (!s->compared && s->jit.calls == kCompareAfter) compare(s);
        return;
    }
    add_sample(s->aot, cycles);
    if (s->state == kAot && tiering && !reference && ready() &&
        (s->aot.calls >= options().hot_calls || s->aot.total >= options().hot_cycles))
        tier_up(s);
}

int trials_running() { return running; }

double speedup(const Slot &s) {
    if (s.decision.n > 0 && s.state != kTrial)
        return s.state == kKept ? s.decision.best_jit_speedup() : s.decision.speedup();
    const double aot = s.aot.calls ? double(s.aot.total) / double(s.aot.calls) : 0;
    const double jit = s.jit.calls ? double(s.jit.total) / double(s.jit.calls) : 0;
    return aot > 0 && jit > 0 ? aot / jit : 0;
}

void reset_counters() {
    for (int i = 0; i < nslots; i++) {
        fresh_region(slots[i].aot, slots[i].name);
        fresh_region(slots[i].jit, slots[i].name);
        slots[i].compared = false;
    }
}

// Waits for the slot's compiles still on the spare core and drops them (code never linked
// into a slot is harmless: nothing calls it).
void drop_compiles(Slot &s) {
    if (s.state != kCompiling) return;
    for (int i = 0; i < s.ncompiles; i++) {
        Compiled c;
        while (s.pending[i] && !compile_poll(s.pending[i], c)) __builtin_ia32_pause();
        s.pending[i] = nullptr;
    }
    s.state = kAot;
    running--;
}

void wait_compiles() {
    for (int i = 0; i < nslots; i++)
        while (slots[i].state == kCompiling) {
            collect(&slots[i]);
            if (slots[i].state == kCompiling) __builtin_ia32_pause();
        }
}

void reset_slots() {
    for (int i = 0; i < nslots; i++) drop_compiles(slots[i]);
    for (int i = 0; i < nslots; i++)
        if (slots[i].trial) {
            delete slots[i].trial;
            slots[i].trial = nullptr;
            running--;
        }
    nslots = 0;
}

void set_tiering(bool on) { tiering = on; }

void use_reference_kernels(bool on) {
    reference = on;
    for (int i = 0; i < nslots; i++) {
        Slot &s = slots[i];
        drop_compiles(s);
        s.fn.store(on ? kSpecs[s.kernel].ref : kSpecs[s.kernel].aot, std::memory_order_release);
        if (s.trial) {
            delete s.trial;
            s.trial = nullptr;
            running--;
        }
        s.state = kAot;
        set_variant(&s, "aot");
        s.compared = false;
    }
}

int slot_count() { return nslots; }
Slot *slot_at(int i) { return i >= 0 && i < nslots ? &slots[i] : nullptr; }

const char *state_name(uint8_t st) {
    switch (st) {
    case kJit: return "jit";
    case kFailed: return "failed";
    case kTrial: return "trial";
    case kKept: return "kept_aot";
    case kCompiling: return "compiling";
    default: return "aot";
    }
}

void report() {
    fprintf(stderr, "jit: %-26s %9s %14s %9s %14s %8s %11s %-11s %s\n", "kernel shape", "AOT calls", "AOT cyc/call",
            "JIT calls", "JIT cyc/call", "speedup", "compile ms", "code", "break-even calls");
    for (int i = 0; i < nslots; i++) {
        Slot &s = slots[i];
        double aot = s.aot.calls ? double(s.aot.total) / double(s.aot.calls) : 0;
        double jc = s.jit.calls ? double(s.jit.total) / double(s.jit.calls) : 0;
        // A trial measured AOT and JIT on alternating calls (the same positions, the same state of
        // the machine): its ratio, not that of the calls before and after the swap, is the speedup.
        const bool tried = s.decision.n > 0 && s.state != kTrial;
        const double speed = speedup(s);
        // After how many calls the compile paid for itself (cycles saved per call vs its cost).
        long long breakeven = (aot > jc && jc > 0 && s.state == kJit)
                                  ? static_cast<long long>(double(s.compile_cycles) / (aot - jc)) + 1
                                  : -1;
        if (s.state != kJit) {  // not on JIT code: no JIT columns (not zeros that read like results)
            char kept[48];
            snprintf(kept, sizeof kept, "- (no JIT code %.0f%% faster: AOT kept)", tune::kMargin * 100);
            const char *why = s.state == kFailed ? "- (JIT failed: AOT)"
                            : s.state == kKept   ? kept
                            : s.state == kTrial  ? "- (trial running)"
                            : s.state == kCompiling ? "- (compiling on a spare core)"
                                                 : "- (not hot: AOT)";
            char sp[16] = "-";
            if (tried) snprintf(sp, sizeof sp, "%.2fx", speed);
            fprintf(stderr, "jit: %-26s %9llu %14.0f %9s %14s %8s %11s %-11s %s\n", s.name,
                    static_cast<unsigned long long>(s.aot.calls), aot, "-", "-", sp, "-", s.variant, why);
        } else {
            char be[24];
            if (breakeven < 0) snprintf(be, sizeof be, "never");
            else snprintf(be, sizeof be, "%lld", breakeven);
            fprintf(stderr, "jit: %-26s %9llu %14.0f %9llu %14.0f %7.2fx %11.2f %-11s %s%s\n", s.name,
                    static_cast<unsigned long long>(s.aot.calls), aot, static_cast<unsigned long long>(s.jit.calls), jc,
                    speed, s.compile_ms, s.variant, s.jit.calls ? be : "-", s.from_cache ? " (cached)" : "");
        }
        recordf("{\"record\":\"jit_kernel\",\"kernel\":\"%s\",\"name\":\"%s\",\"state\":\"%s\",\"variant\":\"%s\","
                "\"aot_calls\":%llu,\"aot_mean_cycles\":%.1f,\"jit_calls\":%llu,\"jit_mean_cycles\":%.1f,\"speedup\":%.3f,"
                "\"measured_in_trial\":%s,\"compile_ms\":%.3f,\"from_cache\":%s,\"break_even_calls\":%lld,\"cpu\":\"%s\"}\n",
                kSpecs[s.kernel].name, s.name, state_name(s.state), s.variant, static_cast<unsigned long long>(s.aot.calls),
                aot, static_cast<unsigned long long>(s.jit.calls), jc, speed, tried ? "true" : "false", s.compile_ms,
                s.from_cache ? "true" : "false", breakeven, cpu_name().c_str());
    }
    const Stats st = stats();
    fprintf(stderr, "jit: %llu compiled, %llu linked from the cache, %d trials run, %llu decisions read from /JIT\n",
            static_cast<unsigned long long>(st.compiled), static_cast<unsigned long long>(st.cache_hits), trials,
            static_cast<unsigned long long>(st.decisions_loaded));
}

}  // namespace bf::jit
