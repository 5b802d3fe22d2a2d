// x86-64 instructions kernel_lib needs, as inline functions (no state, no libc).
#pragma once
#include <stdint.h>

namespace bf::cpu {

struct Cpuid { uint32_t a, b, c, d; };
inline Cpuid cpuid(uint32_t leaf, uint32_t sub = 0) {
    Cpuid r;
    asm volatile("cpuid" : "=a"(r.a), "=b"(r.b), "=c"(r.c), "=d"(r.d) : "a"(leaf), "c"(sub));
    return r;
}
// rdtsc ordered after earlier instructions (lfence): a profiling timestamp, not a guess.
inline uint64_t rdtsc() {
    uint32_t lo, hi;
    asm volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi)::"memory");
    return (uint64_t(hi) << 32) | lo;
}
inline uint64_t rdmsr(uint32_t msr) {
    uint32_t lo, hi;
    asm volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return (uint64_t(hi) << 32) | lo;
}
inline void wrmsr(uint32_t msr, uint64_t v) {
    asm volatile("wrmsr" ::"c"(msr), "a"(uint32_t(v)), "d"(uint32_t(v >> 32)));
}
inline uint8_t inb(uint16_t port) {
    uint8_t v;
    asm volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}
inline void outb(uint16_t port, uint8_t v) { asm volatile("outb %0, %1" ::"a"(v), "Nd"(port)); }
inline void outl(uint16_t port, uint32_t v) { asm volatile("outl %0, %1" ::"a"(v), "Nd"(port)); }
inline uint64_t read_cr(int n) {
    uint64_t v = 0;
    switch (n) {
    case 0: asm volatile("mov %%cr0, %0" : "=r"(v)); break;
    case 2: asm volatile("mov %%cr2, %0" : "=r"(v)); break;
    case 3: asm volatile("mov %%cr3, %0" : "=r"(v)); break;
    case 4: asm volatile("mov %%cr4, %0" : "=r"(v)); break;
    }
    return v;
}
// Byte copy that never becomes a call to libc's memcpy (unusable before glibc start-up). Eight
// bytes per step, then the tail: an emulator (QEMU's TCG) runs `rep movsb` one byte per iteration,
// which made the virtio-blk read rate (its bounce-buffer copy) an eighth of what it could be.
inline void copy_bytes(void *dst, const void *src, uint64_t n) {
    uint64_t q = n / 8, r = n % 8;
    asm volatile("rep movsq" : "+D"(dst), "+S"(src), "+c"(q)::"memory");
    asm volatile("rep movsb" : "+D"(dst), "+S"(src), "+c"(r)::"memory");
}
[[noreturn]] inline void halt_forever() {
    for (;;) asm volatile("cli; hlt");
}

}  // namespace bf::cpu
