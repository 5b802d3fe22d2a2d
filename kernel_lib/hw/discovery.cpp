#include "discovery.h"

#include "../arch/x86_64/cpu.h"
#include "../arch/x86_64/simd.h"
#include "../console/console.h"
#include "bareflow/kernel.h"
#include "pci.h"

namespace bf {

namespace {

struct Cache { unsigned level; const char *type; uint64_t kib; unsigned line, ways; };

int read_caches(Cache *out, int max) {
    using cpu::cpuid;
    uint32_t leaf = 0;
    if (cpuid(0).a >= 4 && cpuid(0, 0).b == 0x756E6547) leaf = 4;  // "Genu"ineIntel
    else if (cpuid(0x80000000).a >= 0x8000001D && (cpuid(0x80000001).c & (1u << 22)))
        leaf = 0x8000001D;  // AMD topology extensions: the same layout
    int n = 0;
    if (!leaf && cpuid(0x80000000).a >= 0x80000006 && max >= 4) {  // AMD's older leaves
        auto l1 = cpuid(0x80000005), l2 = cpuid(0x80000006);
        if (l1.c >> 24) out[n++] = Cache{1, "data", l1.c >> 24, l1.c & 0xFF, (l1.c >> 16) & 0xFF};
        if (l1.d >> 24) out[n++] = Cache{1, "instruction", l1.d >> 24, l1.d & 0xFF, (l1.d >> 16) & 0xFF};
        if (l2.c >> 16) out[n++] = Cache{2, "unified", l2.c >> 16, l2.c & 0xFF, 0};
        if (l2.d >> 18) out[n++] = Cache{3, "unified", uint64_t(l2.d >> 18) * 512, l2.d & 0xFF, 0};
        return n;  // ways 0: these leaves encode L2/L3 associativity, not count it
    }
    for (uint32_t i = 0; leaf && i < 16 && n < max; i++) {
        auto r = cpuid(leaf, i);
        uint32_t type = r.a & 0x1F;
        if (!type) break;
        uint64_t ways = (r.b >> 22) + 1, parts = ((r.b >> 12) & 0x3FF) + 1, line = (r.b & 0xFFF) + 1,
                 sets = uint64_t(r.c) + 1;
        out[n++] = Cache{(r.a >> 5) & 7, type == 1 ? "data" : type == 2 ? "instruction" : "unified",
                         ways * parts * line * sets / 1024, unsigned(line), unsigned(ways)};
    }
    return n;
}

}  // namespace

CpuFeatures cpu_features() {
    using cpu::cpuid;
    auto l1 = cpuid(1), l7 = cpuid(7, 0), l71 = cpuid(7, 1);
    uint64_t x = simd::xcr0();
    bool avx_os = (x & 0x6) == 0x6, zmm_os = avx_os && (x & 0xE0) == 0xE0,
         amx_os = (x & (3ull << 17)) == (3ull << 17);
    CpuFeatures f{};
    f.sse42 = l1.c & (1u << 20);
    f.avx = avx_os && (l1.c & (1u << 28));
    f.fma = f.avx && (l1.c & (1u << 12));
    f.avx2 = f.avx && (l7.b & (1u << 5));
    f.avx512f = zmm_os && (l7.b & (1u << 16));
    f.avx512bw = f.avx512f && (l7.b & (1u << 30));
    f.avx512vl = f.avx512f && (l7.b & (1u << 31));
    f.avx512vnni = f.avx512f && (l7.c & (1u << 11));
    f.avx512bf16 = f.avx512f && (l71.a & (1u << 5));
    f.amx = amx_os && (l7.d & (1u << 24));
    return f;
}

namespace {

// What hw_report found, kept for hw_record (the record waits for the processor count).
char vendor[13], brand[49];
const char *b = brand;
uint32_t sig;
unsigned family, model;
CpuFeatures f;
Cache caches[8];
int nc;
constexpr int kMaxPci = 64;
pci::Device devs[kMaxPci];
int np, shown;
uint64_t g_usable;
struct Feature { const char *name; bool on; };
constexpr int kFeatures = 10;

void feature_list(Feature (&out)[kFeatures]) {
    const Feature all[kFeatures] = {
        {"sse4.2", f.sse42}, {"avx", f.avx}, {"avx2", f.avx2}, {"fma", f.fma},
        {"avx512f", f.avx512f}, {"avx512bw", f.avx512bw}, {"avx512vl", f.avx512vl},
        {"avx512vnni", f.avx512vnni}, {"avx512bf16", f.avx512bf16}, {"amx", f.amx}};
    for (int i = 0; i < kFeatures; i++) out[i] = all[i];
}

}  // namespace

void hw_report(uint64_t usable) {
    using cpu::cpuid;
    auto v = cpuid(0);
    __builtin_memcpy(vendor, &v.b, 4);
    __builtin_memcpy(vendor + 4, &v.d, 4);
    __builtin_memcpy(vendor + 8, &v.c, 4);
    vendor[12] = 0;
    for (int i = 0; i < 49; i++) brand[i] = 0;
    if (cpuid(0x80000000).a >= 0x80000004)
        for (uint32_t i = 0; i < 3; i++) {
            auto r = cpuid(0x80000002 + i);
            __builtin_memcpy(brand + 16 * i, &r, 16);
        }
    b = brand;
    while (*b == ' ') b++;
    sig = cpuid(1).a;
    family = (sig >> 8) & 0xF;
    model = (sig >> 4) & 0xF;
    if (family == 0xF) family += (sig >> 20) & 0xFF;
    if (family >= 6) model |= ((sig >> 16) & 0xF) << 4;
    kprintf("cpu: %s \"%s\" family %u model %u stepping %u\n", vendor, b, family, model, sig & 0xF);

    f = cpu_features();
    Feature feats[kFeatures];
    feature_list(feats);
    kprintf("cpu: features enabled:");
    for (auto &ft : feats)
        if (ft.on) kprintf(" %s", ft.name);
    kprintf(" (XCR0 0x%lx)\n", (unsigned long)simd::xcr0());

    nc = read_caches(caches, 8);
    for (int i = 0; i < nc; i++) {
        kdetailf("cache: L%u %s %lu KiB, %u-byte lines", caches[i].level, caches[i].type,
                (unsigned long)caches[i].kib, caches[i].line);
        if (caches[i].ways) kdetailf(", %u-way", caches[i].ways);
        kdetailf("\n");
    }

    np = bare_metal() ? pci::scan(devs, kMaxPci) : 0;
    shown = np < kMaxPci ? np : kMaxPci;
    for (int i = 0; i < shown; i++)
        kdetailf("pci: %02x:%02x.%u %04x:%04x class %02x%02x%02x %s\n", devs[i].bus, devs[i].dev,
                devs[i].fn, devs[i].vendor, devs[i].device, devs[i].cls, devs[i].subcls,
                devs[i].progif, pci::class_name(devs[i].cls, devs[i].subcls));
    if (!bare_metal()) kdetailf("pci: not scanned (hosted)\n");

    g_usable = usable;
}

void hw_record(int cores_found, int cores_online) {
    Feature feats[kFeatures];
    feature_list(feats);
    krecordf("{\"record\":\"hw\",\"vendor\":\"%s\",\"brand\":\"%s\",\"family\":%u,\"model\":%u,"
            "\"stepping\":%u,\"xcr0\":\"0x%lx\",\"features\":[",
            vendor, b, family, model, sig & 0xF, (unsigned long)simd::xcr0());
    bool first = true;
    for (auto &ft : feats)
        if (ft.on) {
            krecordf("%s\"%s\"", first ? "" : ",", ft.name);
            first = false;
        }
    krecordf("],\"caches\":[");
    for (int i = 0; i < nc; i++)
        krecordf("%s{\"level\":%u,\"type\":\"%s\",\"kib\":%lu,\"line\":%u,\"ways\":%u}", i ? "," : "",
                caches[i].level, caches[i].type, (unsigned long)caches[i].kib, caches[i].line,
                caches[i].ways);
    krecordf("],\"tsc_khz\":%lu,\"tsc_source\":\"%s\",\"usable_mib\":%lu,\"pci\":[",
            (unsigned long)(tsc_hz() / 1000), tsc_source(), (unsigned long)(g_usable >> 20));
    for (int i = 0; i < shown; i++)
        krecordf("%s{\"bdf\":\"%02x:%02x.%u\",\"id\":\"%04x:%04x\",\"class\":\"%02x%02x%02x\"}",
                i ? "," : "", devs[i].bus, devs[i].dev, devs[i].fn, devs[i].vendor, devs[i].device,
                devs[i].cls, devs[i].subcls, devs[i].progif);
    krecordf("],\"pci_count\":%d,\"cores_found\":%d,\"cores_online\":%d}\n", np, cores_found,
             cores_online);
}

}  // namespace bf
