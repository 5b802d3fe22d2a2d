// Terminal-specific calls for the console (fds 0-2: serial + VGA out, serial + PS/2 keyboard in),
// writev over any fd, and a few path queries. Ordinary fd calls live in sys_file.cpp.
#include <asm/unistd_64.h>

#include "../fs/files.h"
#include "bareflow/kernel.h"
#include "errno.h"
#include "syscall.h"

namespace bf {

namespace {

bool is_console(int64_t fd) { return files::is_console(int(fd)); }


int64_t sys_writev(const SyscallFrame &f) {
    struct Iovec { const char *base; uint64_t len; };
    auto *iov = reinterpret_cast<const Iovec *>(f.a1);
    int64_t cnt = f.a2;
    if (cnt < 0 || cnt > 1024) return -kEINVAL;
    if (!user_readable(iov, uint64_t(cnt) * sizeof(Iovec))) return -kEFAULT;
    int64_t total = 0;
    for (int64_t i = 0; i < cnt; i++) {
        if (!user_readable(iov[i].base, iov[i].len)) return total ? total : -kEFAULT;
        int64_t r = files::write(int(f.a0), iov[i].base, iov[i].len);
        if (r < 0) return total ? total : r;
        total += r;
        if (uint64_t(r) < iov[i].len) break;
    }
    return total;
}





int64_t sys_ioctl(const SyscallFrame &f) {
    constexpr uint64_t kTcgets = 0x5401, kTiocgwinsz = 0x5413;
    if (!is_console(f.a0)) return f.a0 >= 0 ? -kENOTTY : -kEBADF;
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
    register_syscall(__NR_writev, sys_writev);
    register_syscall(__NR_ioctl, sys_ioctl);
    register_syscall(__NR_readlink, sys_readlink);
    register_syscall(__NR_readlinkat, sys_readlink);
    register_syscall(__NR_getcwd, sys_getcwd);
}

}  // namespace bf
