// The kernel's page tables. All RAM (and the first 4 GiB, for MMIO) is identity-mapped, no-execute,
// with large pages; page 0 is left unmapped so null pointers fault; the kernel image is mapped with
// 4 KiB pages carrying its ELF segments' permissions (text RX, rodata R, data RW). The brk and
// mmap regions live far above and are mapped 4 KiB at a time by vm:: (mm/vmspace.h).
#pragma once
#include <stdint.h>

namespace bf::paging {

enum Prot : int { kNone = 0, kRead = 1, kWrite = 2, kExec = 4 };

// Builds the tables and loads CR3. [image_lo, image_hi) is the kernel in memory.
void init(uint64_t image_lo, uint64_t image_hi);

// 4 KiB pages in the kernel image or in the brk/mmap regions. A page "has a frame" even when
// kNone makes it inaccessible: the frame stays reserved in the entry.
bool map(uint64_t va, uint64_t frame, int prot);   // false: out of page-table memory
uint64_t unmap(uint64_t va);                       // the frame it had, or 0
bool protect(uint64_t va, int prot);               // false: no 4 KiB page there
uint64_t frame_of(uint64_t va);                    // 0 if none
int prot_of(uint64_t va);                          // -1 if no page
bool accessible(uint64_t va, bool write);          // any mapping, large identity pages too
bool nx_enabled();
bool ready();  // init has run

// Makes the 2 MiB identity page holding physical address pa uncached (PCD|PWT), splitting a
// 1 GiB page if needed: device registers such as the local APIC's. False if pa is not in the
// identity map. Call before other processors run (it reloads only this CPU's CR3).
bool set_uncached(uint64_t pa);
uint64_t pml4_address();  // what CR3 holds (the application processors load it too)

// Bumped by every change that other processors' TLBs may hold stale (unmap, protect). A core
// that saw an older value reloads CR3 before it touches memory the program may have remapped
// (smp::sync_tlb).
uint64_t generation();

}  // namespace bf::paging
