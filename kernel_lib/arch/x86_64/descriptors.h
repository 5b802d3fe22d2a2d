#pragma once
#include <stddef.h>
#include <stdint.h>

namespace bf::cpu {

constexpr uint16_t kKernelCode = 0x08, kKernelData = 0x10, kTss = 0x18;
constexpr int kIstException = 1, kIstCritical = 2, kIstCount = 2;
constexpr size_t kIstSize = 32768;

struct __attribute__((packed)) Tss {
    uint32_t reserved0;
    uint64_t rsp[3];
    uint64_t reserved1;
    uint64_t ist[7];
    uint64_t reserved2;
    uint16_t reserved3;
    uint16_t iomap_base;
};

// One processor's GDT and TSS: every core needs its own TSS (its IST stacks are per core, and
// `ltr` marks the descriptor busy, so two cores cannot load the same one).
struct CpuTables {
    alignas(16) uint64_t gdt[5];
    alignas(16) Tss tss;
};

// BSP: builds the IDT (shared by every core) and loads the BSP's own GDT/TSS/IST stacks.
void descriptors_init();
// Any core: builds t (code, data, TSS with the given IST stack tops), loads GDT, segments, TR
// and the shared IDT. The application processors call it with their own tables and stacks.
void descriptors_load(CpuTables *t, const uint64_t ist_top[kIstCount]);

}  // namespace bf::cpu
