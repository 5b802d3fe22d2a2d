// TSC frequency: the hypervisor's word (CPUID 0x40000010), else CPUID 0x15 with a crystal
// frequency, else a measurement against the PIT (channel 2, 5 windows of 10 ms, median).
#include "tsc.h"

#include "../arch/x86_64/cpu.h"
#include "../hosted/hosted.h"
#include "bareflow/kernel.h"

namespace bf {

namespace {

uint64_t hz;
const char *source = "unset";

uint64_t pit_window() {  // TSC ticks in 10 ms of PIT channel 2 (1193182 Hz, mode 0)
    using namespace cpu;
    constexpr uint16_t kCount = 11932;
    uint8_t gate = inb(0x61);
    outb(0x61, uint8_t((gate & ~0x02) & ~0x01));  // speaker off, gate low
    outb(0x43, 0xB0);                              // channel 2, lo/hi byte, mode 0
    outb(0x42, kCount & 0xFF);
    outb(0x42, kCount >> 8);
    outb(0x61, uint8_t((gate & ~0x02) | 0x01));    // gate high: counting starts
    uint64_t t0 = rdtsc();
    for (uint64_t spins = 0; !(inb(0x61) & 0x20); spins++)
        if (spins > 100000000) return 0;  // no PIT: give up rather than hang
    uint64_t t1 = rdtsc();
    outb(0x61, gate);
    return (t1 - t0) * 1193182ull / kCount;
}

}  // namespace

// Hosted: no PIT (port I/O would fault), so measure the TSC against the host's CLOCK_MONOTONIC.
void calibrate_hosted() {
    uint64_t n0 = hosted::monotonic_ns(), t0 = cpu::rdtsc();
    while (hosted::monotonic_ns() - n0 < 50000000) {
    }
    uint64_t n1 = hosted::monotonic_ns(), t1 = cpu::rdtsc();
    hz = (t1 - t0) * 1000000000ull / (n1 - n0);
    source = "host-clock";
}

void tsc_init() {
    using cpu::cpuid;
    if (cpuid(1).c & (1u << 31)) {  // running under a hypervisor
        if (cpuid(0x40000000).a >= 0x40000010) {
            uint64_t khz = cpuid(0x40000010).a;
            if (khz) {
                hz = khz * 1000;
                source = "hypervisor";
                return;
            }
        }
    }
    if (cpuid(0).a >= 0x15) {
        auto r = cpuid(0x15);
        if (r.a && r.b && r.c) {
            hz = uint64_t(r.c) * r.b / r.a;
            source = "cpuid-0x15";
            return;
        }
    }
    if (!bare_metal()) {
        calibrate_hosted();
        return;
    }
    uint64_t w[5];
    for (auto &x : w) x = pit_window();
    for (int i = 0; i < 5; i++)  // median of five
        for (int j = i + 1; j < 5; j++)
            if (w[j] < w[i]) {
                uint64_t t = w[i];
                w[i] = w[j];
                w[j] = t;
            }
    hz = w[2];
    source = "pit";
}

uint64_t tsc_hz() {
    if (!hz && !bare_metal()) tsc_init();  // hosted: on first use
    return hz;
}
const char *tsc_source() { return source; }

uint64_t tsc_to_us(uint64_t ticks) {
    return hz ? (ticks / hz) * 1000000 + (ticks % hz) * 1000000 / hz : 0;
}

}  // namespace bf
