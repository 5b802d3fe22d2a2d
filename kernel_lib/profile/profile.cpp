#include "bareflow/profile.h"

#include "../arch/x86_64/panic.h"
#include "../time/tsc.h"
#include "bareflow/kernel.h"

namespace bf::prof {

namespace {

constexpr int kMax = 256;
Region regions[kMax];
int n;
uint64_t overhead = ~0ull;

bool same(const char *a, const char *b) {
    while (*a && *a == *b) a++, b++;
    return *a == *b;
}

// "12.345" for a value in thousandths (the console formatter has no %f).
void milli(char *buf, uint64_t v) {
    ksnprintf(buf, 32, "%lu.%03lu", (unsigned long)(v / 1000), (unsigned long)(v % 1000));
}

}  // namespace

Region *region(const char *name) {
    for (int i = 0; i < n; i++)
        if (same(regions[i].name, name)) return &regions[i];
    if (n == kMax) return &regions[kMax - 1];  // full: the last slot collects the rest
    regions[n] = Region{name, 0, 0, ~0ull, 0};
    return &regions[n++];
}

void reset() {
    for (int i = 0; i < n; i++) regions[i] = Region{regions[i].name, 0, 0, ~0ull, 0};
}

int count() { return n; }
Region *at(int i) { return i >= 0 && i < n ? &regions[i] : nullptr; }

uint64_t overhead_cycles() {
    if (overhead != ~0ull) return overhead;
    constexpr int kRuns = 1001;
    static uint64_t d[kRuns];
    for (int i = 0; i < kRuns; i++) {
        Region scratch{"", 0, 0, ~0ull, 0};
        uint64_t t = begin();
        end(&scratch, t);
        d[i] = scratch.total;
    }
    for (int i = 1; i < kRuns; i++)  // insertion sort; runs once
        for (int j = i; j > 0 && d[j] < d[j - 1]; j--) {
            uint64_t t = d[j];
            d[j] = d[j - 1];
            d[j - 1] = t;
        }
    overhead = d[kRuns / 2];
    return overhead;
}

void report(const char *title) {
    uint64_t hz = tsc_hz();
    uint64_t ov = overhead_cycles();
    kprintf("profile: %s (TSC %lu kHz; a profiled region costs %lu cycles)\n", title,
            (unsigned long)(hz / 1000), (unsigned long)ov);
    kprintf("profile: %-24s %10s %14s %12s %12s %12s %14s\n", "region", "calls", "total ms",
            "mean us", "min us", "max us", "mean cycles");
    char total[32], mean[32], mn[32], mx[32];
    auto ns = [&](uint64_t cycles) { return hz ? cycles * 1000000 / (hz / 1000) : 0; };
    for (int i = 0; i < n; i++) {
        const Region &r = regions[i];
        if (!r.calls) continue;
        uint64_t avg = r.total / r.calls;
        milli(total, ns(r.total) / 1000);  // microseconds, shown as ms.uuu
        milli(mean, ns(avg));              // nanoseconds, shown as us.nnn
        milli(mn, ns(r.min));
        milli(mx, ns(r.max));
        kprintf("profile: %-24s %10lu %14s %12s %12s %12s %14lu\n", r.name,
                (unsigned long)r.calls, total, mean, mn, mx, (unsigned long)avg);
    }
    for (int i = 0; i < n; i++) {
        const Region &r = regions[i];
        if (!r.calls) continue;
        krecordf("{\"record\":\"profile\",\"title\":\"%s\",\"region\":\"%s\",\"calls\":%lu,"
                "\"total_cycles\":%lu,\"min_cycles\":%lu,\"max_cycles\":%lu,\"mean_cycles\":%lu,"
                "\"tsc_khz\":%lu}\n",
                title, r.name, (unsigned long)r.calls, (unsigned long)r.total,
                (unsigned long)r.min, (unsigned long)r.max, (unsigned long)(r.total / r.calls),
                (unsigned long)(hz / 1000));
    }
    krecordf("{\"record\":\"profile_overhead\",\"cycles_per_region\":%lu,\"samples\":1001}\n",
            (unsigned long)ov);
}

}  // namespace bf::prof
