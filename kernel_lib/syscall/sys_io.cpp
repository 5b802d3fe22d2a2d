// File descriptors 0, 1, 2: the console (a terminal: serial + VGA out, serial + PS/2 keyboard in).
// Files on the FAT16 partition come with the storage layer; until then open() says ENOENT.
#include <asm/unistd_64.h>

#include "../console/console.h"
#include "../console/input.h"
#include "bareflow/kernel.h"
#include "errno.h"
#include "syscall.h"

namespace bf {

namespace {

bool is_console(int64_t fd) { return fd >= 0 && fd <= 2; }

int64_t sys_write(const SyscallFrame &f) {
    const char *buf = reinterpret_cast<const char *>(f.a1);
    uint64_t n = uint64_t(f.a2);
    if (!is_console(f.a0)) return -kEBADF;
    if (!user_readable(buf, n)) return -kEFAULT;
    console_write(buf, n);
    return int64_t(n);
}

int64_t sys_writev(const SyscallFrame &f) {
    struct Iovec { const char *base; uint64_t len; };
    auto *iov = reinterpret_cast<const Iovec *>(f.a1);
    int64_t cnt = f.a2;
    if (!is_console(f.a0)) return -kEBADF;
    if (cnt < 0 || cnt > 1024) return -kEINVAL;
    if (!user_readable(iov, uint64_t(cnt) * sizeof(Iovec))) return -kEFAULT;
    int64_t total = 0;
    for (int64_t i = 0; i < cnt; i++) {
        if (!user_readable(iov[i].base, iov[i].len)) return total ? total : -kEFAULT;
        console_write(iov[i].base, iov[i].len);
        total += int64_t(iov[i].len);
    }
    return total;
}

int64_t sys_read(const SyscallFrame &f) {
    char *buf = reinterpret_cast<char *>(f.a1);
    uint64_t n = uint64_t(f.a2);
    if (!is_console(f.a0)) return -kEBADF;
    if (!user_writable(buf, n)) return -kEFAULT;
    return int64_t(console_read(buf, n));
}

void fill_console_stat(uint8_t *st) {  // struct stat (x86-64): a character device, /dev/ttyS0
    for (int i = 0; i < 144; i++) st[i] = 0;
    auto put64 = [&](int off, uint64_t v) { __builtin_memcpy(st + off, &v, 8); };
    auto put32 = [&](int off, uint32_t v) { __builtin_memcpy(st + off, &v, 4); };
    put64(0, 5);              // st_dev
    put64(16, 1);             // st_nlink
    put32(24, 0020620);       // st_mode: S_IFCHR | 0620
    put64(40, (4 << 8) | 64); // st_rdev: 4:64, ttyS0
    put64(56, 1024);          // st_blksize
}

int64_t sys_fstat(const SyscallFrame &f) {
    auto *st = reinterpret_cast<uint8_t *>(f.a1);
    if (!is_console(f.a0)) return -kEBADF;
    if (!user_writable(st, 144)) return -kEFAULT;
    fill_console_stat(st);
    return 0;
}

int64_t sys_newfstatat(const SyscallFrame &f) {
    constexpr int64_t kAtEmptyPath = 0x1000;
    const char *path = reinterpret_cast<const char *>(f.a1);
    if (!user_readable(path, 1)) return -kEFAULT;
    if (path[0] == 0 && (f.a3 & kAtEmptyPath)) {
        SyscallFrame g = f;
        g.a1 = f.a2;
        return sys_fstat(g);
    }
    return -kENOENT;
}

int64_t sys_ioctl(const SyscallFrame &f) {
    constexpr uint64_t kTcgets = 0x5401, kTiocgwinsz = 0x5413;
    if (!is_console(f.a0)) return -kEBADF;
    if (uint64_t(f.a1) == kTcgets) {  // the kernel's struct termios: 4 flags, c_line, c_cc[19]
        constexpr int kSize = 36;       // (not glibc's 60-byte one: tcgetattr converts)
        auto *t = reinterpret_cast<uint8_t *>(f.a2);
        if (!user_writable(t, kSize)) return -kEFAULT;
        for (int i = 0; i < kSize; i++) t[i] = 0;
        uint32_t iflag = 0x500 /* ICRNL|IXON */, oflag = 0x5 /* OPOST|ONLCR */,
                 cflag = 0xBF /* B38400|CS8|CREAD */, lflag = 0x8A3B /* ISIG|ICANON|ECHO.. */;
        __builtin_memcpy(t, &iflag, 4);
        __builtin_memcpy(t + 4, &oflag, 4);
        __builtin_memcpy(t + 8, &cflag, 4);
        __builtin_memcpy(t + 12, &lflag, 4);
        return 0;
    }
    if (uint64_t(f.a1) == kTiocgwinsz) {
        auto *w = reinterpret_cast<uint16_t *>(f.a2);
        if (!user_writable(w, 8)) return -kEFAULT;
        w[0] = 25, w[1] = 80, w[2] = w[3] = 0;
        return 0;
    }
    return -kENOTTY;
}

int64_t sys_lseek(const SyscallFrame &f) { return is_console(f.a0) ? -kESPIPE : -kEBADF; }
int64_t sys_close(const SyscallFrame &f) { return is_console(f.a0) ? 0 : -kEBADF; }

int64_t sys_openat(const SyscallFrame &f) {
    const char *path = reinterpret_cast<const char *>(f.a1);
    if (!user_readable(path, 1)) return -kEFAULT;
    return -kENOENT;  // no file system yet
}

int64_t sys_readlink(const SyscallFrame &f) {  // readlink and readlinkat
    bool at = f.nr == __NR_readlinkat;
    const char *path = reinterpret_cast<const char *>(at ? f.a1 : f.a0);
    char *buf = reinterpret_cast<char *>(at ? f.a2 : f.a1);
    uint64_t n = uint64_t(at ? f.a3 : f.a2);
    if (!user_readable(path, 15)) return -kEFAULT;
    const char *self = "/proc/self/exe";
    for (int i = 0; i < 15; i++)
        if (path[i] != self[i]) return -kENOENT;
    const char exe[] = "/bareflow";
    uint64_t len = sizeof exe - 1 < n ? sizeof exe - 1 : n;
    if (!user_writable(buf, len)) return -kEFAULT;
    for (uint64_t i = 0; i < len; i++) buf[i] = exe[i];
    return int64_t(len);
}

int64_t sys_getcwd(const SyscallFrame &f) {
    char *buf = reinterpret_cast<char *>(f.a0);
    if (uint64_t(f.a1) < 2) return -kERANGE;
    if (!user_writable(buf, 2)) return -kEFAULT;
    buf[0] = '/', buf[1] = 0;
    return 2;
}

}  // namespace

void register_io_syscalls() {
    register_syscall(__NR_read, sys_read);
    register_syscall(__NR_write, sys_write);
    register_syscall(__NR_writev, sys_writev);
    register_syscall(__NR_fstat, sys_fstat);
    register_syscall(__NR_newfstatat, sys_newfstatat);
    register_syscall(__NR_ioctl, sys_ioctl);
    register_syscall(__NR_lseek, sys_lseek);
    register_syscall(__NR_close, sys_close);
    register_syscall(__NR_openat, sys_openat);
    register_syscall(__NR_readlink, sys_readlink);
    register_syscall(__NR_readlinkat, sys_readlink);
    register_syscall(__NR_getcwd, sys_getcwd);
}

}  // namespace bf
