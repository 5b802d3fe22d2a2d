// GDT (code, data, TSS), TSS with IST stacks, and an IDT whose every gate uses an IST stack.
// The IDT is one table for all processors; GDT, TSS and IST stacks are per processor
// (smp/ap_boot.cpp gives each AP its own).
#include "descriptors.h"

namespace bf::cpu {

namespace {

struct __attribute__((packed)) IdtGate {
    uint16_t off0, selector;
    uint8_t ist, type;
    uint16_t off1;
    uint32_t off2, zero;
};

struct __attribute__((packed)) Pointer {
    uint16_t limit;
    uint64_t base;
};

alignas(16) uint8_t ist_stacks[kIstCount][kIstSize];  // the BSP's
CpuTables bsp_tables;
alignas(16) IdtGate idt[256];

}  // namespace

extern "C" char isr_stubs[];

void descriptors_load(CpuTables *t, const uint64_t ist_top[kIstCount]) {
    t->gdt[0] = 0;
    t->gdt[1] = 0x00AF9A000000FFFFull;  // kKernelCode: 64-bit, present, ring 0
    t->gdt[2] = 0x00CF92000000FFFFull;  // kKernelData
    for (int i = 0; i < kIstCount; i++) t->tss.ist[i] = ist_top[i];
    t->tss.iomap_base = sizeof(Tss);
    uint64_t base = uint64_t(&t->tss), limit = sizeof(Tss) - 1;
    t->gdt[3] = (limit & 0xFFFF) | ((base & 0xFFFFFF) << 16) | (0x89ull << 40) |
                (((limit >> 16) & 0xF) << 48) | (((base >> 24) & 0xFF) << 56);
    t->gdt[4] = base >> 32;
    Pointer gp{sizeof t->gdt - 1, uint64_t(t->gdt)};
    asm volatile("lgdt %0\n"
                 "pushq %1\n"
                 "leaq 1f(%%rip), %%rax\n"
                 "pushq %%rax\n"
                 "lretq\n"
                 "1: movw %2, %%ax\n"
                 "movw %%ax, %%ds\n"
                 "movw %%ax, %%es\n"
                 "movw %%ax, %%ss\n"
                 "ltr %w3\n"
                 :
                 : "m"(gp), "i"(kKernelCode), "i"(kKernelData), "r"(kTss)
                 : "rax", "memory");
    Pointer ip{sizeof idt - 1, uint64_t(idt)};
    asm volatile("lidt %0" ::"m"(ip));
}

void descriptors_init() {
    for (int v = 0; v < 256; v++) {
        uint64_t a = uint64_t(isr_stubs + 16 * v);
        // NMI, double fault and machine check get their own stack: they can hit while the
        // ordinary exception stack is in use.
        uint8_t ist = (v == 2 || v == 8 || v == 18) ? kIstCritical : kIstException;
        idt[v] = IdtGate{uint16_t(a), kKernelCode, ist, 0x8E, uint16_t(a >> 16),
                         uint32_t(a >> 32), 0};
    }
    uint64_t top[kIstCount];
    for (int i = 0; i < kIstCount; i++) top[i] = uint64_t(ist_stacks[i] + kIstSize);
    descriptors_load(&bsp_tables, top);
}

}  // namespace bf::cpu
