// FAT16 on a block device: the file system behind the POSIX file syscalls on bare metal, and the
// same code over the .img file when hosted. No libc, no heap: it runs inside syscall handlers
// (before and under glibc), so every buffer lives in the Volume.
//
// Guarantees: both FAT copies are kept equal; FAT[1]'s clean bit is cleared before the first
// change after mount and set again by sync() when everything is on disk; a file's data clusters
// and FAT entries are written before the directory entry that points to them; a rename within
// one directory sector is a single sector write. Bad structures (a corrupt BPB, cluster chains
// that loop or leave the volume, directory entries with impossible sizes) give -EIO and a
// message in last_error(), never a hang, a crash or a write that damages other files.
#pragma once
#include <stddef.h>
#include <stdint.h>

namespace bf::fs {

// 512-byte sectors; LBA 0 is the partition's first sector. Functions return 0 or -errno.
struct BlockDev {
    void *ctx;
    int (*read)(void *ctx, uint64_t lba, uint32_t count, void *buf);
    int (*write)(void *ctx, uint64_t lba, uint32_t count, const void *buf);
    int (*flush)(void *ctx);
    uint64_t sectors;
};

// Open flags: Linux's O_* values.
constexpr int kRdOnly = 0, kWrOnly = 1, kRdWr = 2, kCreat = 0100, kExcl = 0200, kTrunc = 01000,
              kAppend = 02000, kDirectory = 0200000;

// An open file or directory. Plain data: the fd layer keeps an array of these.
struct File {
    bool used, dir;
    uint32_t first_cluster;        // 0: empty file (or the root directory)
    uint32_t size;                 // bytes (0 for directories)
    uint32_t dirent_sector;        // where its 32-byte entry lives (LBA) ...
    uint16_t dirent_offset;        // ... and the byte offset in that sector; root: sector 0
    uint32_t cache_index, cache_cluster;  // last (cluster index, cluster number) walked
    bool dirty;                    // size/first cluster changed since the entry was written
};

struct Stat {
    bool dir;
    uint32_t size;
    uint32_t first_cluster;
    uint16_t fat_time, fat_date;   // modification time as stored
};

struct DirEntry {
    char name[256];                // long name if present, else the 8.3 name ("README.TXT")
    bool dir;
    uint32_t size;
};

class Volume {
  public:
    // Reads and checks the boot sector (rejects FAT12/FAT32 and nonsense with a message), loads
    // the FAT. -EINVAL/-EIO with last_error() naming the field.
    int mount(const BlockDev &dev);
    bool mounted() const { return mounted_; }
    const char *last_error() const { return err_; }

    // Paths are absolute, '/'-separated, case-insensitive as FAT is; "." and ".." are handled.
    int open(const char *path, int flags, File *out);  // -ENOENT -EEXIST -EISDIR -ENOTDIR ...
    int64_t read(File *f, uint64_t off, void *buf, uint64_t n);         // bytes, or -errno
    int64_t write(File *f, uint64_t off, const void *buf, uint64_t n);  // bytes, or -ENOSPC ...
    int truncate(File *f, uint64_t size);
    int sync(File *f);             // the entry (size, cluster), the FAT, then a device flush
    int close(File *f);            // sync + forget
    int stat(const char *path, Stat *out);
    int fstat(const File *f, Stat *out);
    // Next entry of an open directory; *cookie starts at 0. 1 = got one, 0 = end, <0 = error.
    int readdir(File *dir, uint64_t *cookie, DirEntry *out);
    int mkdir(const char *path);
    int unlink(const char *path);  // files only (-EISDIR)
    int rmdir(const char *path);   // empty directories only (-ENOTEMPTY)
    int rename(const char *from, const char *to);  // replaces an existing file `to`
    int sync_all();                // FAT copies, clean bit set, device flush
    uint64_t free_bytes() const;
    uint32_t cluster_bytes() const { return cluster_bytes_; }

  private:
    // Implementation state (the FAT cache, sector/cluster buffers, geometry) lives here; sized
    // for the largest FAT16 volume: 65536 FAT entries, 64 KiB clusters.
    friend struct VolumeImpl;
    bool mounted_ = false;
    char err_[160] = {};
    uint32_t cluster_bytes_ = 0;
    alignas(16) uint8_t state_[256 * 1024];
};

}  // namespace bf::fs
