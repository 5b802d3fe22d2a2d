// The program's address space beyond the identity map: the brk heap and the mmap region, backed
// by frames from phys:: at the time of the call (no overcommit: a request that cannot be backed
// fails with -ENOMEM, so allocation until exhaustion ends in a null pointer, not a crash).
// Results follow the Linux syscall convention: a value, or -errno.
#pragma once
#include <stdint.h>

namespace bf::vm {

constexpr uint64_t kBrkBase = 0x0000040000000000ull;   // 4 TiB
constexpr uint64_t kBrkMax = 0x0000001000000000ull;    // 64 GiB of heap at most
constexpr uint64_t kMmapBase = 0x0000100000000000ull;  // 16 TiB
constexpr uint64_t kMmapEnd = 0x0000700000000000ull;   // 112 TiB

int64_t brk(uint64_t addr);
int64_t mmap(uint64_t addr, uint64_t len, int prot, int flags, int fd, uint64_t off);
int64_t munmap(uint64_t addr, uint64_t len);
int64_t mprotect(uint64_t addr, uint64_t len, int prot);
int64_t mremap(uint64_t old_addr, uint64_t old_len, uint64_t new_len, int flags, uint64_t new_addr);
int64_t madvise(uint64_t addr, uint64_t len, int advice);

uint64_t mapped_bytes();  // bytes of frames backing brk + mmap now

// From now on no address is handed out twice: mmap only above every address used so far, and
// the brk heap keeps its frames when it shrinks (zeroed when it grows back). Called before a
// second core runs program code (smp/thread.cpp): its TLB may hold translations this core has
// since removed, harmless as long as those addresses never come back with other contents.
void keep_addresses();
void boot_test_keep();  // vm_test.cpp: kernel command line test=vm-keep

}  // namespace bf::vm
