#include "simd.h"

#include "cpu.h"
#include "panic.h"

namespace bf::simd {

namespace {
bool have_xsave;
uint64_t xcr0_value;
uint64_t area = 512;
constexpr uint64_t kSaveAreaMax = 16384;  // syscall/entry.S keeps it on a 64 KiB stack
}  // namespace

void init() {
    if (!(cpu::cpuid(1).c & (1u << 26))) return;  // no XSAVE: SSE state via FXSAVE only
    uint64_t cr4;
    asm volatile("mov %%cr4, %0" : "=r"(cr4));
    asm volatile("mov %0, %%cr4" ::"r"(cr4 | (1ull << 18)));  // OSXSAVE
    auto d = cpu::cpuid(0xD, 0);
    uint64_t offered = d.a | (uint64_t(d.d) << 32);
    // User state only: x87, SSE, AVX; opmask, ZMM_Hi256, Hi16_ZMM; AMX TILECFG, TILEDATA.
    // AVX-512 and AMX components are all-or-nothing.
    uint64_t want = offered & 0x7;
    if ((offered & 0xE0) == 0xE0) want |= 0xE0;
    if ((offered & (3ull << 17)) == (3ull << 17)) want |= 3ull << 17;
    asm volatile("xsetbv" ::"c"(0), "a"(uint32_t(want)), "d"(uint32_t(want >> 32)));
    uint64_t size = cpu::cpuid(0xD, 0).b;  // for the state just enabled
    if (size > kSaveAreaMax) {            // keep AMX out rather than overflow the save area
        want &= ~(3ull << 17);
        asm volatile("xsetbv" ::"c"(0), "a"(uint32_t(want)), "d"(uint32_t(want >> 32)));
        size = cpu::cpuid(0xD, 0).b;
    }
    have_xsave = true;
    xcr0_value = want;
    area = size;
}

// XCR0 is per core: an AP running AVX code without it faults (#UD), and one with less state
// enabled than the BSP would make the JIT's choice of code wrong there. Same value, same size.
void init_ap() {
    if (!have_xsave) return;
    uint64_t cr4;
    asm volatile("mov %%cr4, %0" : "=r"(cr4));
    asm volatile("mov %0, %%cr4" ::"r"(cr4 | (1ull << 18)));  // OSXSAVE
    asm volatile("xsetbv" ::"c"(0), "a"(uint32_t(xcr0_value)), "d"(uint32_t(xcr0_value >> 32)));
}

bool xsave_enabled() { return have_xsave; }
uint64_t xcr0() { return xcr0_value; }
uint64_t save_area_size() { return area; }

}  // namespace bf::simd
