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
    void clear_error() { err_[0] = 0; }  // so that a caller can tell whether its call set one

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
    // Everything below is the engine's (fat16*.cpp). Every buffer lives here: no
    // heap, no big stack frames. All members have initializers so a global Volume is
    // constant-initialized (no constructor runs before main).
    static constexpr uint32_t kMaxNodes = 64;   // files open at the same time (distinct entries)
    static constexpr uint32_t kMaxDepth = 128;  // directory levels in a path

    // One open regular file, shared by every File opened on the same directory entry (keyed by
    // the entry's location): the in-memory truth for its size and chain while it is open.
    struct Node {
        uint32_t sector = 0;       // key: LBA of its 32-byte entry ...
        uint16_t offset = 0;       // ... and the byte offset in that sector
        uint16_t refs = 0;         // open Files
        uint32_t first_cluster = 0, size = 0;
        uint32_t chain_len = 0;    // clusters in its chain
        uint32_t cache_index = 0, cache_cluster = 0;  // last (index, cluster) walked; cluster 0: none
        bool used = false, dirty = false, unlinked = false;
        uint8_t bad = 0;           // nonzero: the chain is damaged (a Bad* reason); reads give -EIO
    };
    struct Level { uint32_t cluster, lba; uint16_t off; };  // a directory on the resolved path
    struct Ent;   // a directory entry found by lookup (fat16_internal.h)
    struct Path;  // a resolved path
    struct Scan;  // a walk over a directory's 32-byte slots

    // fat16.cpp: device, FAT, chains. fat16_file.cpp: nodes, file data (from find_node on).
    int dev_read(uint64_t lba, uint32_t n, void *buf);
    int dev_write(uint64_t lba, uint32_t n, const void *buf);
    int dev_flush();
    int load_sector(uint32_t lba);
    int store_sector();
    uint64_t cluster_lba(uint32_t c) const { return data_lba_ + uint64_t(c - 2) * spc_; }
    bool valid_cluster(uint32_t c) const { return c >= 2 && c <= clusters_ + 1; }
    uint32_t clusters_for(uint64_t bytes) const;
    int fat_next(uint32_t c, uint32_t *next);
    void fat_set(uint32_t c, uint16_t v);
    int write_fat_sectors(uint32_t first, uint32_t count);
    int flush_fat(bool barrier_after);
    int begin_change();
    int chain_length(uint32_t first, uint32_t *len, uint8_t *why);
    int chain_error(uint8_t why, uint32_t first);
    uint32_t alloc_cluster();
    void free_chain(uint32_t first);
    void ensure_zero();
    int zero_cluster(uint32_t c);
    Node *find_node(uint32_t sector, uint16_t offset);
    int node_of(const File *f, Node **out);
    int open_node(const Ent &e, Node **out);
    void mirror(const Node &n, File *f) const;
    int cluster_run(Node &n, uint32_t index, uint32_t *c, uint32_t *run);
    int extend(Node &n, uint32_t need);
    int write_span(uint64_t lba, uint32_t off, const uint8_t *src, uint32_t len, uint64_t pos,
                   uint32_t cur_size);
    int64_t write_node(Node &n, uint32_t off, const uint8_t *src, uint32_t len);
    int grow_zero(Node &n, uint32_t size);
    int write_entry(Node &n);
    int commit(Node &n);
    int truncate_node(Node &n, uint32_t size);
    int release(Node &n);

    // fat16_names.cpp: name_to16. fat16_dir.cpp: directories, paths.
    int name_to16(const char *s, uint32_t len, bool creating);
    int scan_open(Scan &s, uint32_t dir, bool validate);
    int scan_seek(Scan &s, uint32_t index, uint32_t hint_ci, uint32_t hint_cl);
    int scan_next(Scan &s, const uint8_t **slot, int *kind);
    int lookup(uint32_t dir, Ent *out);
    int resolve(const char *path, Path *p);
    int read_raw(uint32_t lba, uint16_t off, uint8_t *raw);
    int slot_lba(uint32_t dir, uint32_t index, uint32_t *lba);
    int load_slot_sector(uint32_t dir, uint32_t index, uint32_t *cur, bool *loaded);
    int grow_dir(uint32_t dir, uint32_t limit, uint32_t slots);
    int add_entry(uint32_t dir, uint8_t *raw, const Ent *old, Ent *out, bool *old_gone);
    int delete_entry(const Ent &e);
    int dir_empty(uint32_t cluster);
    int set_dotdot(uint32_t cluster, uint32_t parent);
    void fill_stat(const uint8_t *raw, Stat *out);

    bool mounted_ = false;
    char err_[160] = {};
    uint32_t cluster_bytes_ = 0;

    BlockDev dev_ = {};
    uint32_t spc_ = 0, nfats_ = 0, fat_lba_ = 0, fat_sectors_ = 0, fat_loaded_ = 0;
    uint32_t root_lba_ = 0, root_entries_ = 0, data_lba_ = 0, total_sectors_ = 0;
    uint32_t clusters_ = 0, free_count_ = 0, next_free_ = 2;
    bool vol_dirty_ = false;       // the clean bit is cleared on disk (or was never set)
    bool was_clean_ = false;       // the clean bit was set at mount: sync_all() may set it again
    bool zero_ok_ = false;         // clus_ holds zeros
    bool sec_valid_ = false;       // sec_ holds sector sec_lba_
    uint32_t sec_lba_ = 0;
    uint32_t fat_dirty_[8] = {};   // one bit per cached FAT sector (at most 256)
    uint32_t name_len_ = 0;        // name16_: the path component being looked up or created
    uint16_t name16_[256] = {};
    uint16_t lfn_[20 * 13 + 1] = {};  // long name assembled by scan_next
    Level stack_[kMaxDepth] = {};
    Node nodes_[kMaxNodes] = {};
    uint8_t sec_[512] = {};        // directory sector cache
    uint8_t bounce_[512] = {};     // partial data sectors
    uint64_t tails_[1024] = {};    // short-name ~N tails in use (65536 bits)
    alignas(16) uint16_t fat_[65536] = {};  // the whole FAT (first copy)
    alignas(16) uint8_t clus_[65536] = {};  // one cluster: zeros, directory clusters, FAT checks
};

}  // namespace bf::fs
