// Boot-time check of vm::keep_addresses (vmspace.h), on request from the kernel command line
// (`test=vm-keep`, tests/boot/smp.test): once switched on, a freed mmap range is not handed out
// again, brk memory given back and taken again reads zeros (same frames), and a fixed PROT_NONE
// mapping over a live one takes the access away. One line per check, then a summary.
#include "bareflow/kernel.h"
#include "paging.h"
#include "vmspace.h"

namespace bf::vm {

void boot_test_keep() {
    int failed = 0;
    auto check = [&](const char *what, bool ok) {
        kprintf("test: vm-keep: %-56s %s\n", what, ok ? "ok" : "FAILED");
        failed += !ok;
    };
    constexpr uint64_t kLen = 64 * 1024;
    constexpr int kRw = 3, kAnon = 0x22, kFixedAnon = 0x32;
    keep_addresses();
    int64_t a = mmap(0, kLen, kRw, kAnon, -1, 0);
    munmap(uint64_t(a), kLen);
    int64_t b = mmap(0, kLen, kRw, kAnon, -1, 0);
    check("an unmapped range is not handed out again", a > 0 && b > 0 && b != a);
    check("not even when asked for by hint", mmap(uint64_t(a), kLen, kRw, kAnon, -1, 0) != a);

    uint64_t top = uint64_t(brk(0));
    brk(top + kLen);
    auto *p = reinterpret_cast<volatile uint64_t *>(top);
    p[0] = 0x1234;
    uint64_t frame = paging::frame_of(top);
    brk(top);
    brk(top + kLen);
    check("brk shrink then grow: the same frame, zeroed", paging::frame_of(top) == frame && p[0] == 0);
    brk(top);

    auto *q = reinterpret_cast<volatile uint64_t *>(b);
    q[0] = 7;
    int64_t r = mmap(uint64_t(b), kLen, 0, kFixedAnon, -1, 0);
    check("MAP_FIXED PROT_NONE over a live mapping: no access", r == b && !paging::accessible(uint64_t(b), false));
    r = mmap(uint64_t(b), kLen, kRw, kFixedAnon, -1, 0);
    check("MAP_FIXED read-write over it again: zeros", r == b && q[0] == 0);
    check("MAP_FIXED on a freed range below the frontier: refused", mmap(uint64_t(a), kLen, kRw, kFixedAnon, -1, 0) < 0);
    munmap(uint64_t(b), kLen);
    kprintf("test: vm-keep: %s (%d failed)\n", failed ? "FAILED" : "all passed", failed);
}

}  // namespace bf::vm
