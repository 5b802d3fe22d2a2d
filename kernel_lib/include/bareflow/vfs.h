// Files for the program, the same calls in both modes. On bare metal they are plain libc calls
// (syscalls -> FAT16 on the boot disk). Hosted, after use_image("disk.img"), they run the very same
// FAT16 code on partition 1 of that image file; without an image they use the host's files.
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <string>

namespace bf::fs {
class Volume;
}

namespace bf::vfs {

// Hosted only: serve every vfs call from the FAT16 partition of a BareFlow disk image.
// False (and a message on stderr naming the problem) if the image or its FAT16 is unusable.
bool use_image(const char *img_path);
bool using_image();

// Bare metal: the kernel's mounted volume (files::mount), whose reasons end vfs error messages.
void set_system_volume(fs::Volume *v);

FILE *fopen(const char *path, const char *mode);  // NULL + errno, like fopen
int mkdir(const char *path);                      // 0, or -errno (-EEXIST if it exists)
int unlink(const char *path);
int rename(const char *from, const char *to);     // replaces `to`
int stat_size(const char *path, uint64_t *size, bool *is_dir);
// What a path is: only a regular file can be read whole (a FIFO or a device has no size and may
// never end; on the FAT16 volume there are only files and directories).
enum class FileKind : uint8_t { Regular, Directory, CharDevice, BlockDevice, Fifo, Socket, Other };
const char *kind_name(FileKind k);  // "a directory", "a character device", ...
int stat_kind(const char *path, uint64_t *size, FileKind *kind);  // 0, or -errno
// Calls fn for each entry of a directory (not "." and ".."); 0 or -errno.
int list(const char *dir, void (*fn)(const char *name, bool is_dir, uint64_t size, void *ctx),
         void *ctx);
// Writes a file so that it is never torn: a temporary file, flushed to disk, renamed over `path`.
int write_atomic(const char *path, const void *data, size_t n);
int sync();                                       // everything on disk (FAT clean bit set)

// n bytes (rounded up to 64), 64-byte aligned, for data streamed end to end (model weights, the
// read-bandwidth probe); freed with free(). Hosted, from 8 MiB on, advised onto 2 MiB pages
// (Linux THP) before the first touch. nullptr when out of memory.
void *alloc_streamed(size_t n);

// A whole file in memory, owned and move-only. The buffer is 64-byte aligned because model
// weights are used in place (no copy) and the kernels' vector loads want aligned rows.
class Bytes {
public:
    Bytes() = default;
    Bytes(Bytes &&o) noexcept : p_(o.p_), n_(o.n_) { o.p_ = nullptr, o.n_ = 0; }
    Bytes &operator=(Bytes &&o) noexcept;
    Bytes(const Bytes &) = delete;
    Bytes &operator=(const Bytes &) = delete;
    ~Bytes();
    const unsigned char *data() const { return p_; }
    unsigned char *data() { return p_; }  // the owner may rearrange the bytes in place
    size_t size() const { return n_; }

private:
    friend bool read_all(const char *, uint64_t, Bytes &, std::string &, void (*)(size_t, size_t, void *), void *);
    unsigned char *p_ = nullptr;
    size_t n_ = 0;
};

// Reads the regular file `path` whole, never more than the size stat reported. False with err
// naming the path: "cannot open X: reason", "X is a directory", "X is a character device (or a
// FIFO, ...), not a regular file", "X is N bytes, above the limit of M", "out of memory: X needs
// N bytes", "error reading X (n of m bytes)"; on a FAT16 volume an I/O error ends with the file
// system's reason (": cluster chain from 5 loops", docs/fat16.md). `out` is only written on
// success. `progress`, when given, is
// called with (bytes read, total) after every 4 MiB.
using ReadProgress = void (*)(size_t done, size_t total, void *ctx);
bool read_all(const char *path, uint64_t max_bytes, Bytes &out, std::string &err, ReadProgress progress = nullptr,
              void *ctx = nullptr);

}  // namespace bf::vfs
