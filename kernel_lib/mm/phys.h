// Physical frame allocator: one bit per 4 KiB frame of usable E820 RAM (1 = free).
#pragma once
#include <stdint.h>

struct bf_e820_entry;

namespace bf::phys {

constexpr uint64_t kPage = 4096;

// Everything in [reserved_lo, reserved_hi) (the kernel image) and below 1 MiB (BIOS data, the
// boot info, the real-mode trampoline later) stays out of the allocator.
void init(const bf_e820_entry *map, uint32_t n, uint64_t reserved_lo, uint64_t reserved_hi);
uint64_t alloc();            // a frame's physical address, or 0 when memory is exhausted
void free(uint64_t frame);
uint64_t free_frames();
uint64_t total_frames();
uint64_t top();              // end of the highest usable RAM

}  // namespace bf::phys
