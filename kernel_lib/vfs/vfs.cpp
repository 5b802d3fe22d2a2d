// bf::vfs (include/bareflow/vfs.h). Runs after glibc start-up, so it may use libc freely.
#include "bareflow/vfs.h"

#include <sys/mman.h>

#include "../fs/fat16.h"
#include "bareflow/kernel.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <new>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

namespace bf::vfs {

namespace {

// ---- hosted: a disk image file ----
int img_fd = -1;
uint64_t part_lba;
fs::Volume *vol;
fs::Volume *system_vol;  // bare metal: the kernel's (set_system_volume)

int img_read(void *, uint64_t lba, uint32_t n, void *buf) {
    ssize_t r = pread(img_fd, buf, size_t(n) * 512, off_t((part_lba + lba) * 512));
    return r == ssize_t(n) * 512 ? 0 : -EIO;
}
int img_write(void *, uint64_t lba, uint32_t n, const void *buf) {
    ssize_t r = pwrite(img_fd, buf, size_t(n) * 512, off_t((part_lba + lba) * 512));
    return r == ssize_t(n) * 512 ? 0 : -EIO;
}
int img_flush(void *) { return fdatasync(img_fd) ? -EIO : 0; }

struct Cookie {
    fs::File file;
    uint64_t pos;
    bool append;
};

ssize_t ck_read(void *c, char *buf, size_t n) {
    auto *k = static_cast<Cookie *>(c);
    int64_t r = vol->read(&k->file, k->pos, buf, n);
    if (r < 0) return errno = int(-r), -1;
    k->pos += uint64_t(r);
    return r;
}
ssize_t ck_write(void *c, const char *buf, size_t n) {
    auto *k = static_cast<Cookie *>(c);
    if (k->append) {
        fs::Stat st;
        k->pos = vol->fstat(&k->file, &st) == 0 ? st.size : k->file.size;
    }
    int64_t r = vol->write(&k->file, k->pos, buf, n);
    if (r < 0) return errno = int(-r), 0;
    k->pos += uint64_t(r);
    return r;
}
int ck_seek(void *c, off64_t *off, int whence) {
    auto *k = static_cast<Cookie *>(c);
    fs::Stat st;
    int64_t size = vol->fstat(&k->file, &st) == 0 ? int64_t(st.size) : int64_t(k->file.size);
    int64_t base = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? int64_t(k->pos) : size;
    if (base + *off < 0) return errno = EINVAL, -1;
    k->pos = uint64_t(base + *off);
    *off = off64_t(k->pos);
    return 0;
}
int ck_close(void *c) {
    auto *k = static_cast<Cookie *>(c);
    int r = vol->close(&k->file);
    delete k;
    return r ? (errno = -r, -1) : 0;
}

int mode_flags(const char *mode) {
    int acc = strchr(mode, '+') ? fs::kRdWr : (mode[0] == 'r' ? fs::kRdOnly : fs::kWrOnly);
    int f = acc;
    if (mode[0] == 'w') f |= fs::kCreat | fs::kTrunc;
    if (mode[0] == 'a') f |= fs::kCreat | fs::kAppend;
    if (strchr(mode, 'x')) f |= fs::kExcl;
    return f;
}

void sync_at_exit() { sync(); }

// The FAT16 volume behind the vfs calls: the image's (hosted), the kernel's (bare metal), or none
// (host files).
fs::Volume *volume() { return vol ? vol : system_vol; }

// The file system's own words for what just failed ("cluster chain from 5 loops", docs/fat16.md),
// as ": reason", or "" when it said nothing (the caller cleared it before the call).
std::string fs_reason() {
    const fs::Volume *v = volume();
    return v && *v->last_error() ? std::string(": ") + v->last_error() : std::string();
}

}  // namespace

bool use_image(const char *path) {
    img_fd = ::open(path, O_RDWR);
    if (img_fd < 0) {
        fprintf(stderr, "bareflow: cannot open disk image '%s': %s\n", path, strerror(errno));
        return false;
    }
    uint8_t mbr[512];
    if (pread(img_fd, mbr, 512, 0) != 512 || mbr[510] != 0x55 || mbr[511] != 0xAA) {
        fprintf(stderr, "bareflow: '%s' has no MBR\n", path);
        return false;
    }
    uint32_t lba, n;
    memcpy(&lba, mbr + 0x1BE + 8, 4);
    memcpy(&n, mbr + 0x1BE + 12, 4);
    part_lba = lba;
    struct stat img_st;
    const uint64_t img_sectors = fstat(img_fd, &img_st) == 0 ? uint64_t(img_st.st_size) / 512 : 0;
    if (n && (lba >= img_sectors || n > img_sectors - lba)) {  // said as such, not as a read error
        fprintf(stderr, "bareflow: '%s' partition 1 (LBA %u, %u sectors) %s the image's end (%llu sectors)\n", path,
                lba, n, lba >= img_sectors ? "starts past" : "runs past", static_cast<unsigned long long>(img_sectors));
        return false;
    }
    static fs::BlockDev dev;
    dev = fs::BlockDev{nullptr, img_read, img_write, img_flush, n};
    vol = new (std::nothrow) fs::Volume();
    if (!vol) return false;
    if (int r = vol->mount(dev)) {
        fprintf(stderr, "bareflow: '%s' partition 1: %s (%s)\n", path, vol->last_error(), strerror(-r));
        delete vol;
        vol = nullptr;
        return false;
    }
    atexit(sync_at_exit);
    return true;
}

bool using_image() { return vol != nullptr; }

void set_system_volume(fs::Volume *v) { system_vol = v; }

FILE *fopen(const char *path, const char *mode) {
    if (!vol) return ::fopen(path, mode);
    auto *k = new (std::nothrow) Cookie{};
    if (!k) return errno = ENOMEM, nullptr;
    if (int r = vol->open(path, mode_flags(mode), &k->file)) {
        delete k;
        return errno = -r, nullptr;
    }
    k->append = mode[0] == 'a';
    FILE *f = fopencookie(k, mode, cookie_io_functions_t{ck_read, ck_write, ck_seek, ck_close});
    if (!f) ck_close(k);
    return f;
}

int mkdir(const char *path) {
    if (vol) return vol->mkdir(path);
    return ::mkdir(path, 0755) ? -errno : 0;
}

int unlink(const char *path) {
    if (vol) return vol->unlink(path);
    return ::unlink(path) ? -errno : 0;
}

int rename(const char *from, const char *to) {
    if (vol) return vol->rename(from, to);
    return ::rename(from, to) ? -errno : 0;
}

const char *kind_name(FileKind k) {
    switch (k) {
    case FileKind::Regular: return "a regular file";
    case FileKind::Directory: return "a directory";
    case FileKind::CharDevice: return "a character device";
    case FileKind::BlockDevice: return "a block device";
    case FileKind::Fifo: return "a FIFO";
    case FileKind::Socket: return "a socket";
    default: return "not a regular file";
    }
}

int stat_kind(const char *path, uint64_t *size, FileKind *kind) {
    if (vol) {
        fs::Stat s;
        if (int r = vol->stat(path, &s)) return r;
        *size = s.size;
        *kind = s.dir ? FileKind::Directory : FileKind::Regular;
        return 0;
    }
    struct stat st;
    if (::stat(path, &st)) return -errno;
    *size = uint64_t(st.st_size);
    const mode_t m = st.st_mode;
    *kind = S_ISREG(m) ? FileKind::Regular : S_ISDIR(m) ? FileKind::Directory : S_ISCHR(m) ? FileKind::CharDevice :
            S_ISBLK(m) ? FileKind::BlockDevice : S_ISFIFO(m) ? FileKind::Fifo : S_ISSOCK(m) ? FileKind::Socket :
            FileKind::Other;
    return 0;
}

int stat_size(const char *path, uint64_t *size, bool *is_dir) {
    FileKind k = FileKind::Other;
    const int r = stat_kind(path, size, &k);
    if (r == 0) *is_dir = k == FileKind::Directory;
    return r;
}

int list(const char *dir, void (*fn)(const char *, bool, uint64_t, void *), void *ctx) {
    if (vol) {
        fs::File d;
        if (int r = vol->open(dir, fs::kRdOnly | fs::kDirectory, &d)) return r;
        uint64_t cookie = 0;
        static fs::DirEntry e;
        int r;
        while ((r = vol->readdir(&d, &cookie, &e)) == 1)
            if (strcmp(e.name, ".") && strcmp(e.name, "..")) fn(e.name, e.dir, e.size, ctx);
        vol->close(&d);
        return r < 0 ? r : 0;
    }
    DIR *d = opendir(dir);
    if (!d) return -errno;
    while (dirent *e = readdir(d)) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        std::string p = std::string(dir) + "/" + e->d_name;
        struct stat st;
        if (::stat(p.c_str(), &st) == 0) fn(e->d_name, S_ISDIR(st.st_mode), uint64_t(st.st_size), ctx);
    }
    closedir(d);
    return 0;
}

int write_atomic(const char *path, const void *data, size_t n) {
    std::string tmp = std::string(path) + ".tmp";
    if (vol) {
        fs::File f;
        if (int r = vol->open(tmp.c_str(), fs::kWrOnly | fs::kCreat | fs::kTrunc, &f)) return r;
        int64_t w = vol->write(&f, 0, data, n);
        int r = w < 0 ? int(w) : (uint64_t(w) != n ? -ENOSPC : vol->sync(&f));
        int c = vol->close(&f);
        if (!r) r = c;
        if (!r) r = vol->rename(tmp.c_str(), path);
        if (r) vol->unlink(tmp.c_str());
        return r;
    }
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) return -errno;
    const char *p = static_cast<const char *>(data);
    size_t left = n;
    while (left) {
        ssize_t w = ::write(fd, p, left);
        if (w <= 0) {
            int e = w < 0 ? errno : ENOSPC;
            ::close(fd);
            ::unlink(tmp.c_str());
            return -e;
        }
        p += w;
        left -= size_t(w);
    }
    if (::fsync(fd) || ::close(fd)) {
        int e = errno;
        ::unlink(tmp.c_str());
        return -e;
    }
    return ::rename(tmp.c_str(), path) ? -errno : 0;
}

int sync() {
    if (vol) return vol->sync_all();
    ::sync();
    return 0;
}

Bytes &Bytes::operator=(Bytes &&o) noexcept {
    if (this != &o) {
        free(p_);
        p_ = o.p_, n_ = o.n_;
        o.p_ = nullptr, o.n_ = 0;
    }
    return *this;
}

Bytes::~Bytes() { free(p_); }

void *alloc_streamed(size_t n) {
    void *p = aligned_alloc(64, (n + 63) / 64 * 64);
    // Linux with transparent huge pages in madvise mode gives 2 MiB pages only when asked: one
    // TLB entry per 2 MiB of a stream instead of 512. Bare metal ignores the advice.
    constexpr uintptr_t kHuge = uintptr_t(2) << 20;
    if (p && n >= 4 * kHuge) {
        const uintptr_t a = (uintptr_t(p) + kHuge - 1) & ~(kHuge - 1), e = (uintptr_t(p) + n) & ~(kHuge - 1);
        if (e > a) madvise(reinterpret_cast<void *>(a), e - a, MADV_HUGEPAGE);
    }
    return p;
}

bool read_all(const char *path, uint64_t max_bytes, Bytes &out, std::string &err, ReadProgress progress,
              void *ctx) {
    // The size first, so that the buffer is allocated once (a model may be most of the memory).
    uint64_t size = 0;
    FileKind kind = FileKind::Other;
    if (fs::Volume *v = volume()) v->clear_error();
    if (int r = stat_kind(path, &size, &kind)) {
        err = std::string("cannot open ") + path + ": " + strerror(-r) + fs_reason();
        return false;
    }
    // Before opening: opening a FIFO blocks, and a device's stat size (0) says nothing of what a
    // read returns (/dev/zero never ends).
    if (kind == FileKind::Directory) {
        err = std::string(path) + " is a directory";
        return false;
    }
    if (kind != FileKind::Regular) {
        err = std::string(path) + " is " + kind_name(kind) + ", not a regular file";
        return false;
    }
    if (size > max_bytes) {
        err = std::string(path) + " is " + std::to_string(size) + " bytes, above the limit of " +
              std::to_string(max_bytes);
        return false;
    }
    FILE *f = fopen(path, "rb");
    if (!f) {
        err = std::string("cannot open ") + path + ": " + strerror(errno) + fs_reason();
        return false;
    }
    // aligned_alloc wants a multiple of the alignment; an empty file still gets a buffer.
    const uint64_t cap = size ? (size + 63) / 64 * 64 : 64;
    auto *buf = cap > SIZE_MAX ? nullptr : static_cast<unsigned char *>(alloc_streamed(size_t(cap)));
    if (!buf) {
        ::fclose(f);
        err = std::string("out of memory: ") + path + " needs " + std::to_string(size) + " bytes";
        return false;
    }
    // In 4 MiB steps when someone watches (a USB stick reads a large model for minutes), else at once.
    const size_t step = progress ? size_t(4) << 20 : size_t(size);
    size_t n = 0;
    while (n < size) {
        const size_t want = size_t(size) - n < step ? size_t(size) - n : step;
        const size_t got = fread(buf + n, 1, want, f);
        if (got == 0) break;
        n += got;
        if (progress) progress(n, size_t(size), ctx);
    }
    const bool bad = ferror(f);
    ::fclose(f);
    if (bad || n != size) {
        free(buf);
        err = std::string("error reading ") + path + " (" + std::to_string(n) + " of " + std::to_string(size) +
              " bytes)" + fs_reason();
        return false;
    }
    out = Bytes();
    out.p_ = buf;
    out.n_ = n;
    return true;
}

}  // namespace bf::vfs
