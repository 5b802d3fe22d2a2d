#include "files.h"

#include "../console/console.h"
#include "../console/input.h"
#include "../syscall/errno.h"
#include "bareflow/kernel.h"

namespace bf::vfs {
void set_system_volume(fs::Volume *v);  // bareflow/vfs.h, which pulls in libc headers
}

namespace bf::files {

namespace {

constexpr int kMaxFds = 64, kPathMax = 256, kAtFdCwd = -100, kAtRemoveDir = 0x200,
              kAtEmptyPath = 0x1000, kRenameNoReplace = 1;
enum class Kind : uint8_t { kFree, kConsole, kFile };

struct Fd {
    Kind kind;
    int flags;
    uint64_t pos, cookie;  // file position; readdir position for directories
    fs::File file;
    char path[kPathMax];
};

fs::Volume vol;
Fd fds[kMaxFds];
bool ready;

// The file's current size: open files on the same file share one record in the volume, so the
// fd's own File may be stale.
uint64_t size_of(Fd *f) {
    fs::Stat st;
    return vol.fstat(&f->file, &st) == 0 ? st.size : f->file.size;
}

uint64_t len(const char *s) {
    uint64_t n = 0;
    while (s[n]) n++;
    return n;
}

// Absolute path for (dirfd, path) into out; -ENAMETOOLONG / -EBADF / -ENOTDIR.
int resolve(int dirfd, const char *path, char *out) {
    uint64_t n = len(path);
    if (n == 0) return -kENOENT;
    const char *base = "/";
    if (path[0] != '/' && dirfd != kAtFdCwd) {
        if (dirfd < 0 || dirfd >= kMaxFds || fds[dirfd].kind != Kind::kFile) return -kEBADF;
        if (!fds[dirfd].file.dir) return -kENOTDIR;
        base = fds[dirfd].path;
    }
    uint64_t k = 0;
    if (path[0] != '/') {
        for (uint64_t i = 0; base[i]; i++) out[k++] = base[i];
        if (k && out[k - 1] != '/') out[k++] = '/';
    }
    if (k + n >= kPathMax) return -kENAMETOOLONG;
    for (uint64_t i = 0; i <= n; i++) out[k + i] = path[i];
    return 0;
}

Fd *get(int fd) {
    if (fd < 0 || fd >= kMaxFds || fds[fd].kind == Kind::kFree) return nullptr;
    return &fds[fd];
}

// struct stat (x86-64 layout) for a FAT file or directory.
void fill_stat(uint8_t *st, const fs::Stat &s) {
    for (int i = 0; i < 144; i++) st[i] = 0;
    auto put64 = [&](int off, uint64_t v) { __builtin_memcpy(st + off, &v, 8); };
    auto put32 = [&](int off, uint32_t v) { __builtin_memcpy(st + off, &v, 4); };
    // FAT date/time -> Unix seconds (FAT stores local time; we treat it as UTC).
    unsigned y = 1980 + (s.fat_date >> 9), mo = (s.fat_date >> 5) & 15, d = s.fat_date & 31;
    if (mo < 1) mo = 1;
    if (d < 1) d = 1;
    int64_t yy = int64_t(y) - (mo <= 2);
    int64_t era = yy / 400;
    unsigned yoe = unsigned(yy - era * 400);
    unsigned doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t days = era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
    uint64_t t = uint64_t(days) * 86400 + (s.fat_time >> 11) * 3600ull +
                 ((s.fat_time >> 5) & 63) * 60ull + (s.fat_time & 31) * 2ull;
    put64(0, 8);                                     // st_dev
    put64(8, s.first_cluster ? s.first_cluster : 1); // st_ino
    put64(16, 1);                                    // st_nlink
    put32(24, s.dir ? 040755 : 0100644);             // st_mode
    put64(48, s.size);                               // st_size
    put64(56, vol.cluster_bytes() ? vol.cluster_bytes() : 512);  // st_blksize
    put64(64, (uint64_t(s.size) + 511) / 512);       // st_blocks
    put64(72, t);                                    // st_atime
    put64(88, t);                                    // st_mtime
    put64(104, t);                                   // st_ctime
}

void console_stat(uint8_t *st) {
    for (int i = 0; i < 144; i++) st[i] = 0;
    uint64_t dev = 5, nlink = 1, rdev = (4 << 8) | 64, blk = 1024;
    uint32_t mode = 0020620;  // a character device, /dev/ttyS0
    __builtin_memcpy(st, &dev, 8);
    __builtin_memcpy(st + 16, &nlink, 8);
    __builtin_memcpy(st + 24, &mode, 4);
    __builtin_memcpy(st + 40, &rdev, 8);
    __builtin_memcpy(st + 56, &blk, 8);
}

}  // namespace

void mount(const fs::BlockDev &dev) {
    for (int i = 0; i < 3; i++) fds[i].kind = Kind::kConsole;
    if (!dev.sectors) return;
    int r = vol.mount(dev);
    if (r) {
        kprintf("fs: partition 1 not mounted: %s\n", vol.last_error());
        return;
    }
    ready = true;
    vfs::set_system_volume(&vol);
    kprintf("fs: FAT16 partition mounted at /: %lu MiB free, %u KiB clusters\n",
            (unsigned long)(vol.free_bytes() >> 20), vol.cluster_bytes() / 1024);
}

bool mounted() { return ready; }
fs::Volume &volume() { return vol; }
bool is_console(int fd) { return fd >= 0 && fd < kMaxFds && fds[fd].kind == Kind::kConsole; }

void shutdown() {
    if (!ready) return;
    for (auto &f : fds)
        if (f.kind == Kind::kFile) vol.sync(&f.file);
    if (int r = vol.sync_all()) kprintf("fs: flushing at shutdown failed (%d)\n", r);
}

int64_t openat(int dirfd, const char *path, int flags) {
    char abs[kPathMax];
    if (int r = resolve(dirfd, path, abs)) return r;
    if (!ready) return -kENOENT;
    int fd = 3;
    while (fd < kMaxFds && fds[fd].kind != Kind::kFree) fd++;
    if (fd == kMaxFds) return -kEMFILE;
    Fd &f = fds[fd];
    int r = vol.open(abs, flags & ~0x80000 /* O_CLOEXEC means nothing here */, &f.file);
    if (r) return r;
    f.kind = Kind::kFile;
    f.flags = flags;
    f.pos = 0;
    f.cookie = 0;
    for (int i = 0; i < kPathMax; i++) f.path[i] = abs[i];
    return fd;
}

int64_t close(int fd) {
    Fd *f = get(fd);
    if (!f) return -kEBADF;
    int r = 0;
    if (f->kind == Kind::kFile) r = vol.close(&f->file);
    f->kind = Kind::kFree;
    return r;
}

int64_t pread(int fd, void *buf, uint64_t n, int64_t off) {
    Fd *f = get(fd);
    if (!f) return -kEBADF;
    if (f->kind == Kind::kConsole) return -kESPIPE;
    if (f->file.dir) return -kEISDIR;
    if ((f->flags & 3) == fs::kWrOnly) return -kEBADF;
    if (off < 0) return -kEINVAL;
    return vol.read(&f->file, uint64_t(off), buf, n);
}

int64_t pwrite(int fd, const void *buf, uint64_t n, int64_t off) {
    Fd *f = get(fd);
    if (!f) return -kEBADF;
    if (f->kind == Kind::kConsole) return -kESPIPE;
    if (f->file.dir) return -kEISDIR;
    if ((f->flags & 3) == fs::kRdOnly) return -kEBADF;
    if (off < 0) return -kEINVAL;
    return vol.write(&f->file, uint64_t(off), buf, n);
}

int64_t read(int fd, void *buf, uint64_t n) {
    Fd *f = get(fd);
    if (!f) return -kEBADF;
    if (f->kind == Kind::kConsole) return int64_t(console_read(static_cast<char *>(buf), n));
    int64_t r = pread(fd, buf, n, int64_t(f->pos));
    if (r > 0) f->pos += uint64_t(r);
    return r;
}

int64_t write(int fd, const void *buf, uint64_t n) {
    Fd *f = get(fd);
    if (!f) return -kEBADF;
    if (f->kind == Kind::kConsole) {
        if (fd == 2) console_write_diagnostic(static_cast<const char *>(buf), n);
        else console_write(static_cast<const char *>(buf), n);
        return int64_t(n);
    }
    if (f->flags & fs::kAppend) f->pos = size_of(f);
    int64_t r = pwrite(fd, buf, n, int64_t(f->pos));
    if (r > 0) f->pos += uint64_t(r);
    return r;
}

int64_t lseek(int fd, int64_t off, int whence) {
    Fd *f = get(fd);
    if (!f) return -kEBADF;
    if (f->kind == Kind::kConsole) return -kESPIPE;
    int64_t base = whence == 0 ? 0 : whence == 1 ? int64_t(f->pos) : whence == 2 ? int64_t(size_of(f)) : -1;
    if (base < 0 || base + off < 0) return -kEINVAL;
    f->pos = uint64_t(base + off);
    if (f->file.dir && whence == 0 && off == 0) f->cookie = 0;  // rewinddir
    return int64_t(f->pos);
}

int64_t fstat(int fd, void *st) {
    Fd *f = get(fd);
    if (!f) return -kEBADF;
    if (f->kind == Kind::kConsole) {
        console_stat(static_cast<uint8_t *>(st));
        return 0;
    }
    fs::Stat s;
    if (int r = vol.fstat(&f->file, &s)) return r;
    fill_stat(static_cast<uint8_t *>(st), s);
    return 0;
}

int64_t fstatat(int dirfd, const char *path, void *st, int flags) {
    if (path[0] == 0 && (flags & kAtEmptyPath)) return fstat(dirfd, st);
    char abs[kPathMax];
    if (int r = resolve(dirfd, path, abs)) return r;
    if (!ready) return -kENOENT;
    fs::Stat s;
    if (int r = vol.stat(abs, &s)) return r;
    fill_stat(static_cast<uint8_t *>(st), s);
    return 0;
}

int64_t getdents64(int fd, void *buf, uint64_t n) {
    Fd *f = get(fd);
    if (!f) return -kEBADF;
    if (f->kind != Kind::kFile || !f->file.dir) return -kENOTDIR;
    uint8_t *out = static_cast<uint8_t *>(buf);
    uint64_t used = 0;
    for (;;) {
        uint64_t before = f->cookie;
        static fs::DirEntry e;
        int r = vol.readdir(&f->file, &f->cookie, &e);
        if (r < 0) return used ? int64_t(used) : r;
        if (r == 0) break;
        uint64_t name_len = len(e.name);
        uint64_t reclen = (19 + name_len + 1 + 7) & ~7ull;
        if (used + reclen > n) {
            f->cookie = before;  // does not fit: hand it out next time
            if (!used) return -kEINVAL;
            break;
        }
        uint8_t *d = out + used;
        uint64_t ino = f->cookie, next = f->cookie;
        uint16_t rl = uint16_t(reclen);
        __builtin_memcpy(d, &ino, 8);
        __builtin_memcpy(d + 8, &next, 8);
        __builtin_memcpy(d + 16, &rl, 2);
        d[18] = e.dir ? 4 : 8;  // DT_DIR : DT_REG
        for (uint64_t i = 0; i <= name_len; i++) d[19 + i] = uint8_t(e.name[i]);
        for (uint64_t i = 19 + name_len + 1; i < reclen; i++) d[i] = 0;
        used += reclen;
    }
    return int64_t(used);
}

int64_t unlinkat(int dirfd, const char *path, int flags) {
    char abs[kPathMax];
    if (int r = resolve(dirfd, path, abs)) return r;
    if (!ready) return -kENOENT;
    return (flags & kAtRemoveDir) ? vol.rmdir(abs) : vol.unlink(abs);
}

int64_t renameat(int olddirfd, const char *from, int newdirfd, const char *to, unsigned flags) {
    char a[kPathMax], b[kPathMax];
    if (int r = resolve(olddirfd, from, a)) return r;
    if (int r = resolve(newdirfd, to, b)) return r;
    if (!ready) return -kENOENT;
    if (flags & ~kRenameNoReplace) return -kEINVAL;
    fs::Stat s;
    if ((flags & kRenameNoReplace) && vol.stat(b, &s) == 0) return -kEEXIST;
    return vol.rename(a, b);
}

int64_t mkdirat(int dirfd, const char *path) {
    char abs[kPathMax];
    if (int r = resolve(dirfd, path, abs)) return r;
    if (!ready) return -kENOENT;
    return vol.mkdir(abs);
}

int64_t fsync(int fd) {
    Fd *f = get(fd);
    if (!f) return -kEBADF;
    if (f->kind == Kind::kConsole) return 0;
    return vol.sync(&f->file);
}

int64_t sync_all() {
    if (!ready) return 0;
    for (auto &f : fds)
        if (f.kind == Kind::kFile)
            if (int r = vol.sync(&f.file)) return r;
    return vol.sync_all();
}

int64_t ftruncate(int fd, int64_t size) {
    Fd *f = get(fd);
    if (!f) return -kEBADF;
    if (f->kind != Kind::kFile || f->file.dir || (f->flags & 3) == fs::kRdOnly) return -kEINVAL;
    if (size < 0) return -kEINVAL;
    return vol.truncate(&f->file, uint64_t(size));
}

int64_t faccessat(int dirfd, const char *path, int) {
    char abs[kPathMax];
    if (int r = resolve(dirfd, path, abs)) return r;
    if (!ready) return -kENOENT;
    fs::Stat s;
    return vol.stat(abs, &s);
}

}  // namespace bf::files
