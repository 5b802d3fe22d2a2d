// File descriptors: the console and files on the FAT16 volume (kernel_lib/fs/files.cpp).
#include <asm/unistd_64.h>

#include "../fs/files.h"
#include "errno.h"
#include "syscall.h"

namespace bf {

namespace {

constexpr int64_t kAtFdCwd = -100;

// A NUL-terminated path from the caller, checked page by page; nullptr if unreadable or too long.
const char *path_arg(int64_t p) {
    const char *s = reinterpret_cast<const char *>(p);
    for (int i = 0; i < 4096; i++) {
        if ((i == 0 || ((uint64_t(s) + i) & 4095) == 0) && !user_readable(s + i, 1)) return nullptr;
        if (!s[i]) return s;
    }
    return nullptr;
}

#define PATH(var, arg)                       \
    const char *var = path_arg(arg);         \
    if (!var) return -kEFAULT

int64_t sys_read(const SyscallFrame &f) {
    if (!user_writable(reinterpret_cast<void *>(f.a1), uint64_t(f.a2))) return -kEFAULT;
    return files::read(int(f.a0), reinterpret_cast<void *>(f.a1), uint64_t(f.a2));
}
int64_t sys_write(const SyscallFrame &f) {
    if (!user_readable(reinterpret_cast<const void *>(f.a1), uint64_t(f.a2))) return -kEFAULT;
    return files::write(int(f.a0), reinterpret_cast<const void *>(f.a1), uint64_t(f.a2));
}
int64_t sys_pread64(const SyscallFrame &f) {
    if (!user_writable(reinterpret_cast<void *>(f.a1), uint64_t(f.a2))) return -kEFAULT;
    return files::pread(int(f.a0), reinterpret_cast<void *>(f.a1), uint64_t(f.a2), f.a3);
}
int64_t sys_pwrite64(const SyscallFrame &f) {
    if (!user_readable(reinterpret_cast<const void *>(f.a1), uint64_t(f.a2))) return -kEFAULT;
    return files::pwrite(int(f.a0), reinterpret_cast<const void *>(f.a1), uint64_t(f.a2), f.a3);
}
int64_t sys_open(const SyscallFrame &f) {
    PATH(p, f.a0);
    return files::openat(int(kAtFdCwd), p, int(f.a1));
}
int64_t sys_openat(const SyscallFrame &f) {
    PATH(p, f.a1);
    return files::openat(int(f.a0), p, int(f.a2));
}
int64_t sys_close(const SyscallFrame &f) { return files::close(int(f.a0)); }
int64_t sys_lseek(const SyscallFrame &f) { return files::lseek(int(f.a0), f.a1, int(f.a2)); }
int64_t sys_fstat(const SyscallFrame &f) {
    if (!user_writable(reinterpret_cast<void *>(f.a1), 144)) return -kEFAULT;
    return files::fstat(int(f.a0), reinterpret_cast<void *>(f.a1));
}
int64_t sys_stat(const SyscallFrame &f) {  // stat and lstat: no symlinks on FAT
    PATH(p, f.a0);
    if (!user_writable(reinterpret_cast<void *>(f.a1), 144)) return -kEFAULT;
    return files::fstatat(int(kAtFdCwd), p, reinterpret_cast<void *>(f.a1), 0);
}
int64_t sys_newfstatat(const SyscallFrame &f) {
    PATH(p, f.a1);
    if (!user_writable(reinterpret_cast<void *>(f.a2), 144)) return -kEFAULT;
    return files::fstatat(int(f.a0), p, reinterpret_cast<void *>(f.a2), int(f.a3));
}
int64_t sys_getdents64(const SyscallFrame &f) {
    if (!user_writable(reinterpret_cast<void *>(f.a1), uint64_t(f.a2))) return -kEFAULT;
    return files::getdents64(int(f.a0), reinterpret_cast<void *>(f.a1), uint64_t(f.a2));
}
int64_t sys_unlink(const SyscallFrame &f) {
    PATH(p, f.a0);
    return files::unlinkat(int(kAtFdCwd), p, 0);
}
int64_t sys_rmdir(const SyscallFrame &f) {
    PATH(p, f.a0);
    return files::unlinkat(int(kAtFdCwd), p, 0x200);
}
int64_t sys_unlinkat(const SyscallFrame &f) {
    PATH(p, f.a1);
    return files::unlinkat(int(f.a0), p, int(f.a2));
}
int64_t sys_rename(const SyscallFrame &f) {
    PATH(a, f.a0);
    PATH(b, f.a1);
    return files::renameat(int(kAtFdCwd), a, int(kAtFdCwd), b, 0);
}
int64_t sys_renameat2(const SyscallFrame &f) {  // renameat and renameat2
    PATH(a, f.a1);
    PATH(b, f.a3);
    return files::renameat(int(f.a0), a, int(f.a2), b, f.nr == __NR_renameat2 ? unsigned(f.a4) : 0);
}
int64_t sys_mkdir(const SyscallFrame &f) {
    PATH(p, f.a0);
    return files::mkdirat(int(kAtFdCwd), p);
}
int64_t sys_mkdirat(const SyscallFrame &f) {
    PATH(p, f.a1);
    return files::mkdirat(int(f.a0), p);
}
int64_t sys_fsync(const SyscallFrame &f) { return files::fsync(int(f.a0)); }
int64_t sys_sync(const SyscallFrame &) { return files::sync_all(); }
int64_t sys_ftruncate(const SyscallFrame &f) { return files::ftruncate(int(f.a0), f.a1); }
int64_t sys_access(const SyscallFrame &f) {
    PATH(p, f.a0);
    return files::faccessat(int(kAtFdCwd), p, int(f.a1));
}
int64_t sys_faccessat(const SyscallFrame &f) {  // faccessat and faccessat2
    PATH(p, f.a1);
    return files::faccessat(int(f.a0), p, int(f.a2));
}

}  // namespace

void register_file_syscalls() {
    register_syscall(__NR_read, sys_read);
    register_syscall(__NR_write, sys_write);
    register_syscall(__NR_pread64, sys_pread64);
    register_syscall(__NR_pwrite64, sys_pwrite64);
    register_syscall(__NR_open, sys_open);
    register_syscall(__NR_openat, sys_openat);
    register_syscall(__NR_close, sys_close);
    register_syscall(__NR_lseek, sys_lseek);
    register_syscall(__NR_fstat, sys_fstat);
    register_syscall(__NR_stat, sys_stat);
    register_syscall(__NR_lstat, sys_stat);
    register_syscall(__NR_newfstatat, sys_newfstatat);
    register_syscall(__NR_getdents64, sys_getdents64);
    register_syscall(__NR_unlink, sys_unlink);
    register_syscall(__NR_rmdir, sys_rmdir);
    register_syscall(__NR_unlinkat, sys_unlinkat);
    register_syscall(__NR_rename, sys_rename);
    register_syscall(__NR_renameat, sys_renameat2);
    register_syscall(__NR_renameat2, sys_renameat2);
    register_syscall(__NR_mkdir, sys_mkdir);
    register_syscall(__NR_mkdirat, sys_mkdirat);
    register_syscall(__NR_fsync, sys_fsync);
    register_syscall(__NR_fdatasync, sys_fsync);
    register_syscall(__NR_ftruncate, sys_ftruncate);
    register_syscall(__NR_sync, sys_sync);
    register_syscall(__NR_syncfs, sys_sync);
    register_syscall(__NR_access, sys_access);
    register_syscall(__NR_faccessat, sys_faccessat);
    register_syscall(__NR_faccessat2, sys_faccessat);
}

}  // namespace bf
