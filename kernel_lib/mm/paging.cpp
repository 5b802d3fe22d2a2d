#include "paging.h"

#include "../arch/x86_64/cpu.h"
#include "../arch/x86_64/panic.h"
#include "phys.h"

#include <elf.h>

extern "C" const Elf64_Ehdr __ehdr_start;  // the ELF header, mapped with the first segment

namespace bf::paging {

namespace {

constexpr uint64_t P = 1, RW = 2, PS = 0x80, kHasFrame = 1ull << 9, NX = 1ull << 63;
constexpr uint64_t kAddrMask = 0x000FFFFFFFFFF000ull;

uint64_t *pml4;
uint64_t nx_bit;  // NX when EFER.NXE is on, else 0 (the bit would be reserved)
// Written by the BSP only (kernel_lib's page-table code runs there: APs make no syscalls);
// read by the APs. An aligned 8-byte store is atomic on x86.
volatile uint64_t tlb_generation;

uint64_t *table_at(uint64_t entry) { return reinterpret_cast<uint64_t *>(entry & kAddrMask); }

uint64_t *new_table() {
    uint64_t f = phys::alloc();
    if (!f) return nullptr;
    uint64_t *t = reinterpret_cast<uint64_t *>(f);
    for (int i = 0; i < 512; i++) t[i] = 0;
    return t;
}

// The page-table entry for a 4 KiB page at va, creating tables on the way if asked.
uint64_t *pte(uint64_t va, bool create) {
    uint64_t *t = pml4;
    for (int shift = 39; shift > 12; shift -= 9) {
        uint64_t &e = t[(va >> shift) & 511];
        if (!(e & P)) {
            if (!create) return nullptr;
            uint64_t *n = new_table();
            if (!n) return nullptr;
            e = uint64_t(n) | P | RW;
        } else if (e & PS) {
            return nullptr;  // inside a large identity page: not ours to manage
        }
        t = table_at(e);
    }
    return &t[(va >> 12) & 511];
}

uint64_t bits(int prot) {
    uint64_t b = (prot == kNone) ? 0 : P;
    if (prot & kWrite) b |= RW;
    if (!(prot & kExec)) b |= nx_bit;
    return b;
}

void invlpg(uint64_t va) { asm volatile("invlpg (%0)" ::"r"(va) : "memory"); }
void bump_generation() { tlb_generation = tlb_generation + 1; }

int segment_prot(uint64_t va) {  // permissions of the kernel image page at va, from its phdrs
    const Elf64_Phdr *ph = reinterpret_cast<const Elf64_Phdr *>(
        reinterpret_cast<const char *>(&__ehdr_start) + __ehdr_start.e_phoff);
    int prot = kNone;
    for (int i = 0; i < __ehdr_start.e_phnum; i++) {
        if (ph[i].p_type != PT_LOAD) continue;
        uint64_t lo = ph[i].p_vaddr & ~0xFFFull, hi = (ph[i].p_vaddr + ph[i].p_memsz + 0xFFF) & ~0xFFFull;
        if (va >= lo && va < hi) {
            if (ph[i].p_flags & PF_R) prot |= kRead;
            if (ph[i].p_flags & PF_W) prot |= kWrite;
            if (ph[i].p_flags & PF_X) prot |= kExec;
        }
    }
    return prot == kNone ? (kRead | kWrite) : prot;  // gaps and the symbol table: data
}

}  // namespace

bool nx_enabled() { return nx_bit != 0; }
uint64_t pml4_address() { return uint64_t(pml4); }
uint64_t generation() { return tlb_generation; }

bool set_uncached(uint64_t pa) {
    constexpr uint64_t PWT = 0x08, PCD = 0x10;
    if (!pml4 || pa >= (1ull << 47)) return false;
    uint64_t l4 = pml4[(pa >> 39) & 511];
    if (!(l4 & P)) return false;
    uint64_t &l3 = table_at(l4)[(pa >> 30) & 511];
    if (!(l3 & P)) return false;
    if (l3 & PS) {  // a 1 GiB page: the same mapping as 512 2 MiB pages
        uint64_t *pd = new_table();
        if (!pd) return false;
        uint64_t base = l3 & kAddrMask & ~((1ull << 30) - 1), flags = l3 & (RW | nx_bit | PWT | PCD);
        for (int i = 0; i < 512; i++) pd[i] = (base + (uint64_t(i) << 21)) | P | PS | flags;
        l3 = uint64_t(pd) | P | RW;
    }
    uint64_t &l2 = table_at(l3)[(pa >> 21) & 511];
    if (!(l2 & P)) return false;
    if (l2 & PS) l2 |= PCD | PWT;
    else {
        uint64_t &l1 = table_at(l2)[(pa >> 12) & 511];  // low memory: 4 KiB pages
        if (!(l1 & P)) return false;
        l1 |= PCD | PWT;
    }
    asm volatile("mov %%cr3, %%rax; mov %%rax, %%cr3" ::: "rax", "memory");
    return true;
}
bool ready() { return pml4 != nullptr; }

void init(uint64_t image_lo, uint64_t image_hi) {
    nx_bit = (cpu::rdmsr(0xC0000080) & (1 << 11)) ? NX : 0;
    pml4 = new_table();
    if (!pml4) panic("paging: no memory for the page tables");
    // Identity map [0, top) with 2 MiB pages (1 GiB pages where the CPU has them), no-execute.
    uint64_t top = phys::top();
    if (top < (1ull << 32)) top = 1ull << 32;
    bool gb = cpu::cpuid(0x80000001).d & (1u << 26);
    for (uint64_t a = 0; a < top;) {
        uint64_t &l4 = pml4[(a >> 39) & 511];
        if (!(l4 & P)) l4 = uint64_t(new_table()) | P | RW;
        uint64_t *pdpt = table_at(l4);
        uint64_t &l3 = pdpt[(a >> 30) & 511];
        bool low_gib = a < (1ull << 30);  // holds page 0 and the kernel: needs 4 KiB pages
        if (gb && !low_gib && (a & ((1ull << 30) - 1)) == 0 && top - a >= (1ull << 30)) {
            l3 = a | P | RW | PS | nx_bit;
            a += 1ull << 30;
            continue;
        }
        if (!(l3 & P)) l3 = uint64_t(new_table()) | P | RW;
        uint64_t *pd = table_at(l3);
        pd[(a >> 21) & 511] = a | P | RW | PS | nx_bit;
        a += 1ull << 21;
    }
    // Page 0 unmapped; low memory and the kernel image with 4 KiB pages.
    uint64_t lo4k = 0, hi4k = (image_hi + (1ull << 21) - 1) & ~((1ull << 21) - 1);
    for (uint64_t big = lo4k; big < hi4k; big += 1ull << 21) {
        uint64_t *pd = table_at(table_at(pml4[0])[(big >> 30) & 511]);
        uint64_t *pt = new_table();
        if (!pt) panic("paging: no memory for the page tables");
        for (int i = 0; i < 512; i++) {
            uint64_t va = big + uint64_t(i) * 4096;
            if (va == 0) continue;
            int prot = (va >= image_lo && va < image_hi) ? segment_prot(va) : (kRead | kWrite);
            pt[i] = va | bits(prot);
        }
        pd[(big >> 21) & 511] = uint64_t(pt) | P | RW;
    }
    asm volatile("mov %0, %%cr3" ::"r"(uint64_t(pml4)) : "memory");
    asm volatile("mov %%cr0, %%rax; or $0x10000, %%rax; mov %%rax, %%cr0" ::: "rax");  // CR0.WP
}

bool map(uint64_t va, uint64_t frame, int prot) {
    uint64_t *e = pte(va, true);
    if (!e) return false;
    *e = frame | bits(prot) | kHasFrame;
    invlpg(va);
    return true;
}

uint64_t unmap(uint64_t va) {
    uint64_t *e = pte(va, false);
    if (!e || !(*e & (kHasFrame | P))) return 0;
    uint64_t f = *e & kAddrMask;
    bool owned = *e & kHasFrame;
    *e = 0;
    invlpg(va);
    bump_generation();
    return owned ? f : 0;
}

bool protect(uint64_t va, int prot) {
    uint64_t *e = pte(va, false);
    if (!e || !(*e & (kHasFrame | P))) return false;
    *e = (*e & (kAddrMask | kHasFrame)) | bits(prot);
    invlpg(va);
    bump_generation();
    return true;
}

uint64_t frame_of(uint64_t va) {
    uint64_t *e = pte(va, false);
    return (e && (*e & (kHasFrame | P))) ? (*e & kAddrMask) : 0;
}

int prot_of(uint64_t va) {
    uint64_t *e = pte(va, false);
    if (!e || !(*e & (kHasFrame | P))) return -1;
    if (!(*e & P)) return kNone;
    return kRead | ((*e & RW) ? kWrite : 0) | ((*e & NX) && nx_bit ? 0 : kExec);
}

bool accessible(uint64_t va, bool write) {
    if (va >= (1ull << 47)) return false;
    uint64_t *t = pml4;
    for (int shift = 39; shift >= 12; shift -= 9) {
        uint64_t e = t[(va >> shift) & 511];
        if (!(e & P)) return false;
        if (shift == 12 || (e & PS)) return !write || (e & RW);
        t = table_at(e);
    }
    return false;
}

}  // namespace bf::paging
