// brk, mmap, munmap, mprotect, mremap, madvise: thin wrappers over mm/vmspace.
#include <asm/unistd_64.h>

#include "../mm/vmspace.h"
#include "syscall.h"

namespace bf {

namespace {
int64_t sys_brk(const SyscallFrame &f) { return vm::brk(uint64_t(f.a0)); }
int64_t sys_mmap(const SyscallFrame &f) {
    return vm::mmap(uint64_t(f.a0), uint64_t(f.a1), int(f.a2), int(f.a3), int(f.a4), uint64_t(f.a5));
}
int64_t sys_munmap(const SyscallFrame &f) { return vm::munmap(uint64_t(f.a0), uint64_t(f.a1)); }
int64_t sys_mprotect(const SyscallFrame &f) {
    return vm::mprotect(uint64_t(f.a0), uint64_t(f.a1), int(f.a2));
}
int64_t sys_mremap(const SyscallFrame &f) {
    return vm::mremap(uint64_t(f.a0), uint64_t(f.a1), uint64_t(f.a2), int(f.a3), uint64_t(f.a4));
}
int64_t sys_madvise(const SyscallFrame &f) {
    return vm::madvise(uint64_t(f.a0), uint64_t(f.a1), int(f.a2));
}
}  // namespace

void register_memory_syscalls() {
    register_syscall(__NR_brk, sys_brk);
    register_syscall(__NR_mmap, sys_mmap);
    register_syscall(__NR_munmap, sys_munmap);
    register_syscall(__NR_mprotect, sys_mprotect);
    register_syscall(__NR_mremap, sys_mremap);
    register_syscall(__NR_madvise, sys_madvise);
}

}  // namespace bf
