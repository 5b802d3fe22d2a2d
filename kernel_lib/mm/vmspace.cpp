#include "vmspace.h"

#include "../syscall/errno.h"
#include "paging.h"
#include "phys.h"

namespace bf::vm {

namespace {

constexpr uint64_t kPage = 4096;
constexpr int kProtRead = 1, kProtWrite = 2, kProtExec = 4;
constexpr int kMapFixed = 0x10, kMapAnonymous = 0x20, kMapFixedNoReplace = 0x100000;
constexpr int kMremapMayMove = 1, kMremapFixed = 2;

// Reserved ranges of the mmap region, sorted, non-overlapping. Static: this code serves malloc.
struct Range { uint64_t start, end; };
constexpr int kMaxRanges = 8192;
Range ranges[kMaxRanges];
int nranges;
uint64_t brk_end = kBrkBase, backed;
// keep_addresses(): once set, no address is handed out twice (mmap from fresh_from up only, brk
// keeps its frames below brk_kept when it shrinks) so that another core's stale TLB entry can
// only name memory the program gave up, never memory it was given since.
bool keep;
uint64_t fresh_from = kMmapBase, brk_kept = kBrkBase;

uint64_t page_up(uint64_t v) { return (v + kPage - 1) & ~(kPage - 1); }

int to_paging(int prot) {
    return (prot & kProtRead ? paging::kRead : 0) | (prot & kProtWrite ? paging::kWrite : 0) |
           (prot & kProtExec ? paging::kExec : 0);
}

void zero_frame(uint64_t f) {  // through the identity map
    uint64_t *p = reinterpret_cast<uint64_t *>(f);
    for (int i = 0; i < 512; i++) p[i] = 0;
}

void zero_in_place(uint64_t va, uint64_t len) {  // the frames stay where they are
    for (uint64_t a = va; a < va + len; a += kPage)
        if (uint64_t f = paging::frame_of(a)) zero_frame(f);
}

void release(uint64_t va, uint64_t len) {
    for (uint64_t a = va; a < va + len; a += kPage)
        if (uint64_t f = paging::unmap(a)) {
            phys::free(f);
            backed -= kPage;
        }
}

// Backs [va, va + len) with fresh zeroed frames; on failure undoes its own work.
bool commit(uint64_t va, uint64_t len, int prot) {
    for (uint64_t a = va; a < va + len; a += kPage) {
        if (paging::frame_of(a)) {
            paging::protect(a, prot);
            continue;
        }
        uint64_t f = phys::alloc();
        if (f) zero_frame(f);
        if (!f || !paging::map(a, f, prot)) {
            if (f) phys::free(f);
            release(va, a - va);
            return false;
        }
        backed += kPage;
    }
    return true;
}

bool in_region(uint64_t a, uint64_t len) {
    return a >= kMmapBase && len <= kMmapEnd - kMmapBase && a <= kMmapEnd - len;
}

bool range_free(uint64_t a, uint64_t len) {
    for (int i = 0; i < nranges; i++)
        if (ranges[i].start < a + len && a < ranges[i].end) return false;
    return true;
}

bool insert(uint64_t a, uint64_t len) {
    if (nranges == kMaxRanges) return false;
    int i = 0;
    while (i < nranges && ranges[i].start < a) i++;
    for (int j = nranges; j > i; j--) ranges[j] = ranges[j - 1];
    ranges[i] = {a, a + len};
    nranges++;
    if (a + len > fresh_from) fresh_from = a + len;
    return true;
}

// Removes [a, a + len) from the reserved set, splitting a range when needed.
bool remove(uint64_t a, uint64_t len) {
    uint64_t e = a + len;
    for (int i = 0; i < nranges; i++) {
        Range &r = ranges[i];
        if (r.end <= a || r.start >= e) continue;
        if (r.start < a && r.end > e) {  // a hole in the middle: split
            if (nranges == kMaxRanges) return false;
            for (int j = nranges; j > i + 1; j--) ranges[j] = ranges[j - 1];
            ranges[i + 1] = {e, r.end};
            nranges++;
            r.end = a;
            return true;
        }
        if (r.start < a) r.end = a;
        else if (r.end > e) r.start = e;
        else {
            for (int j = i; j < nranges - 1; j++) ranges[j] = ranges[j + 1];
            nranges--;
            i--;
        }
    }
    return true;
}

uint64_t find_gap(uint64_t len, uint64_t hint) {
    if (keep) {
        uint64_t a = hint >= fresh_from && in_region(hint, len) ? hint : fresh_from;
        return in_region(a, len) ? a : 0;
    }
    if (hint && in_region(hint, len) && range_free(hint, len)) return hint;
    uint64_t a = kMmapBase;
    for (int i = 0; i < nranges; i++) {
        if (ranges[i].start >= a + len) return a;
        if (ranges[i].end > a) a = ranges[i].end;
    }
    return in_region(a, len) ? a : 0;
}

bool reserved(uint64_t a, uint64_t len) {  // every page of [a, a+len) inside reserved ranges
    for (uint64_t p = a; p < a + len;) {
        bool hit = false;
        for (int i = 0; i < nranges; i++)
            if (p >= ranges[i].start && p < ranges[i].end) {
                p = ranges[i].end;
                hit = true;
                break;
            }
        if (!hit) return false;
    }
    return true;
}

}  // namespace

int64_t brk(uint64_t addr) {
    if (addr < kBrkBase || addr > kBrkBase + kBrkMax) return int64_t(brk_end);
    uint64_t old_top = page_up(brk_end), new_top = page_up(addr);
    if (new_top > old_top) {
        uint64_t kept = new_top < brk_kept ? new_top : brk_kept;  // frames kept by a shrink
        if (kept > old_top) zero_in_place(old_top, kept - old_top);
        uint64_t from = kept > old_top ? kept : old_top;
        if (new_top > from && !commit(from, new_top - from, paging::kRead | paging::kWrite))
            return int64_t(brk_end);  // Linux reports failure by returning the old break
    }
    if (new_top < old_top) {
        if (!keep) release(new_top, old_top - new_top);
        else if (old_top > brk_kept) brk_kept = old_top;
    }
    brk_end = addr;
    return int64_t(brk_end);
}

int64_t mmap(uint64_t addr, uint64_t len, int prot, int flags, int fd, uint64_t off) {
    (void)fd;
    if (!len || (addr & (kPage - 1)) || (off & (kPage - 1))) return -kEINVAL;
    if (!(flags & kMapAnonymous)) return -kENODEV;  // file mappings come with the file system
    len = page_up(len);
    if (!len) return -kENOMEM;
    uint64_t a;
    if (flags & (kMapFixed | kMapFixedNoReplace)) {
        if (!in_region(addr, len)) return -kENOMEM;
        bool free = range_free(addr, len);
        // Keeping addresses: a fixed mapping either replaces one the program holds (same
        // frames, zeroed) or lies beyond every address handed out so far.
        if (keep && !(free ? addr >= fresh_from : reserved(addr, len))) return -kENOMEM;
        if (!free) {
            if (flags & kMapFixedNoReplace) return -kEEXIST;
            if (keep) {  // reads zeros afterwards; PROT_NONE gets no commit below: revoke here
                zero_in_place(addr, len);
                if (prot == 0)
                    for (uint64_t p = addr; p < addr + len; p += kPage) paging::protect(p, paging::kNone);
            } else {
                release(addr, len);
            }
            if (!remove(addr, len)) return -kENOMEM;
        }
        a = addr;
    } else {
        a = find_gap(len, addr);
        if (!a) return -kENOMEM;
    }
    if (!insert(a, len)) return -kENOMEM;
    if (prot != 0 && !commit(a, len, to_paging(prot))) {
        remove(a, len);
        return -kENOMEM;
    }
    return int64_t(a);
}

int64_t munmap(uint64_t addr, uint64_t len) {
    if (!len || (addr & (kPage - 1))) return -kEINVAL;
    len = page_up(len);
    if (!in_region(addr, len)) return -kEINVAL;
    release(addr, len);
    return remove(addr, len) ? 0 : -kENOMEM;
}

int64_t mprotect(uint64_t addr, uint64_t len, int prot) {
    if (addr & (kPage - 1)) return -kEINVAL;
    len = page_up(len);
    int p = to_paging(prot);
    if (in_region(addr, len)) {  // mmap region: PROT_NONE reservations get frames now
        if (!reserved(addr, len)) return -kENOMEM;
        if (p == paging::kNone) {
            for (uint64_t a = addr; a < addr + len; a += kPage) paging::protect(a, p);
            return 0;
        }
        return commit(addr, len, p) ? 0 : -kENOMEM;
    }
    for (uint64_t a = addr; a < addr + len; a += kPage)  // brk heap or the kernel image (RELRO)
        if (paging::prot_of(a) < 0) return -kENOMEM;
    for (uint64_t a = addr; a < addr + len; a += kPage) paging::protect(a, p);
    return 0;
}

int64_t mremap(uint64_t old_addr, uint64_t old_len, uint64_t new_len, int flags, uint64_t) {
    if ((old_addr & (kPage - 1)) || !new_len || (flags & kMremapFixed)) return -kEINVAL;
    old_len = page_up(old_len);
    new_len = page_up(new_len);
    if (!in_region(old_addr, old_len) || !reserved(old_addr, old_len)) return -kEFAULT;
    int prot = paging::prot_of(old_addr);
    if (prot < 0) prot = paging::kRead | paging::kWrite;
    if (new_len <= old_len) {
        release(old_addr + new_len, old_len - new_len);
        remove(old_addr + new_len, old_len - new_len);
        return int64_t(old_addr);
    }
    uint64_t grow = new_len - old_len;
    if (in_region(old_addr + old_len, grow) && range_free(old_addr + old_len, grow) &&
        (!keep || old_addr + old_len >= fresh_from)) {
        if (!insert(old_addr + old_len, grow)) return -kENOMEM;
        if (!commit(old_addr + old_len, grow, prot)) {
            remove(old_addr + old_len, grow);
            return -kENOMEM;
        }
        return int64_t(old_addr);
    }
    if (!(flags & kMremapMayMove)) return -kENOMEM;
    uint64_t a = find_gap(new_len, 0);
    if (!a || !insert(a, new_len)) return -kENOMEM;
    if (!commit(a + old_len, grow, prot)) {
        remove(a, new_len);
        return -kENOMEM;
    }
    for (uint64_t off = 0; off < old_len; off += kPage) {  // move frames, not bytes
        uint64_t f = paging::unmap(old_addr + off);
        if (f && !paging::map(a + off, f, prot)) return -kENOMEM;
    }
    remove(old_addr, old_len);
    return int64_t(a);
}

int64_t madvise(uint64_t addr, uint64_t len, int advice) {
    constexpr int kDontNeed = 4;
    if (addr & (kPage - 1)) return -kEINVAL;
    if (advice == kDontNeed && in_region(addr, page_up(len)))
        for (uint64_t a = addr; a < addr + page_up(len); a += kPage)
            if (uint64_t f = paging::frame_of(a); f && paging::prot_of(a) & paging::kWrite)
                zero_frame(f);  // private anonymous memory reads back as zeros afterwards
    return 0;
}

uint64_t mapped_bytes() { return backed; }

void keep_addresses() {
    if (keep) return;
    keep = true;
    if (page_up(brk_end) > brk_kept) brk_kept = page_up(brk_end);
}

}  // namespace bf::vm
