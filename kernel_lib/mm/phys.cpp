#include "phys.h"

#include "../../boot/include/bootinfo.h"
#include "../arch/x86_64/panic.h"

namespace bf::phys {

namespace {

uint64_t *bitmap;     // identity-mapped, carved out of the first usable range that fits
uint64_t nframes;     // frames covered by the bitmap: [0, nframes * kPage)
uint64_t nfree, ntotal, hint, ram_top;

void set_free(uint64_t f, bool free) {
    uint64_t bit = 1ull << (f & 63);
    if (free) bitmap[f >> 6] |= bit;
    else bitmap[f >> 6] &= ~bit;
}

}  // namespace

void init(const bf_e820_entry *map, uint32_t n, uint64_t reserved_lo, uint64_t reserved_hi) {
    for (uint32_t i = 0; i < n; i++)
        if (map[i].type == 1 && map[i].base + map[i].length > ram_top)
            ram_top = map[i].base + map[i].length;
    nframes = ram_top / kPage;
    uint64_t bytes = (nframes + 63) / 64 * 8;
    // The bitmap goes in the first usable range above the kernel with room for it.
    uint64_t where = 0;
    for (uint32_t i = 0; i < n && !where; i++) {
        if (map[i].type != 1) continue;
        uint64_t lo = (map[i].base + kPage - 1) & ~(kPage - 1);
        if (lo < reserved_hi) lo = (reserved_hi + kPage - 1) & ~(kPage - 1);
        uint64_t hi = (map[i].base + map[i].length) & ~(kPage - 1);
        if (hi > lo && hi - lo >= bytes && lo + bytes <= (1ull << 32)) where = lo;
    }
    if (!where) panic("phys: no usable RAM for the %lu-byte frame bitmap", (unsigned long)bytes);
    bitmap = reinterpret_cast<uint64_t *>(where);
    for (uint64_t i = 0; i < bytes / 8; i++) bitmap[i] = 0;
    uint64_t bm_end = (where + bytes + kPage - 1) & ~(kPage - 1);
    for (uint32_t i = 0; i < n; i++) {
        if (map[i].type != 1) continue;
        uint64_t lo = (map[i].base + kPage - 1) / kPage, hi = (map[i].base + map[i].length) / kPage;
        for (uint64_t f = lo; f < hi; f++) {
            uint64_t a = f * kPage;
            if (a < 0x100000 || (a >= reserved_lo && a < reserved_hi) || (a >= where && a < bm_end))
                continue;
            set_free(f, true);
            nfree++;
        }
    }
    ntotal = nfree;
    hint = 0;
}

uint64_t alloc() {
    uint64_t words = (nframes + 63) / 64;
    for (uint64_t k = 0; k < words; k++) {
        uint64_t w = (hint + k) % words;
        if (bitmap[w]) {
            uint64_t f = w * 64 + uint64_t(__builtin_ctzll(bitmap[w]));
            set_free(f, false);
            nfree--;
            hint = w;
            return f * kPage;
        }
    }
    return 0;
}

void free(uint64_t frame) {
    uint64_t f = frame / kPage;
    if (f >= nframes || (bitmap[f >> 6] & (1ull << (f & 63))))
        panic("phys: freeing frame %p twice or outside RAM", (void *)frame);
    set_free(f, true);
    nfree++;
}

uint64_t free_frames() { return nfree; }
uint64_t total_frames() { return ntotal; }
uint64_t top() { return ram_top; }

}  // namespace bf::phys
