// File descriptors on bare metal: 0-2 are the console, the rest open files and directories on the
// FAT16 volume (partition 1 of the boot disk), mounted at "/".
#pragma once
#include <stdint.h>

#include "fat16.h"

namespace bf::files {

void mount(const fs::BlockDev &dev);  // prints what it mounted, or why not
bool mounted();
fs::Volume &volume();
void shutdown();                      // flush everything; sets the FAT clean bit

// Syscall implementations (Linux semantics, -errno on failure). dirfd: AT_FDCWD or a directory fd.
int64_t openat(int dirfd, const char *path, int flags);
int64_t close(int fd);
int64_t read(int fd, void *buf, uint64_t n);
int64_t write(int fd, const void *buf, uint64_t n);
int64_t pread(int fd, void *buf, uint64_t n, int64_t off);
int64_t pwrite(int fd, const void *buf, uint64_t n, int64_t off);
int64_t lseek(int fd, int64_t off, int whence);
int64_t fstat(int fd, void *st);
int64_t fstatat(int dirfd, const char *path, void *st, int flags);
int64_t getdents64(int fd, void *buf, uint64_t n);
int64_t unlinkat(int dirfd, const char *path, int flags);
int64_t renameat(int olddirfd, const char *from, int newdirfd, const char *to, unsigned flags);
int64_t mkdirat(int dirfd, const char *path);
int64_t fsync(int fd);
int64_t sync_all();  // sync(2), syncfs(2): every open file and the FAT, then the device
int64_t ftruncate(int fd, int64_t size);
int64_t faccessat(int dirfd, const char *path, int mode);
bool is_console(int fd);

}  // namespace bf::files
