// FAT16 engine, part 1: mount, the device, the FAT cache, cluster chains, open files (nodes)
// and file data. Directories, names and paths are in fat16_dir.cpp.
//
// Ordering on disk (crash safety): file data, then both FAT copies, then the directory entry
// (commit()); when clusters are freed, the entry that referenced them is written first. A device
// flush separates the steps. FAT[1] bit 15 (clean) is cleared on disk before the first change.
#include "fat16_internal.h"

namespace bf::fs {

// ---- device -------------------------------------------------------------------------------

int Volume::dev_read(uint64_t lba, uint32_t n, void *buf) {
    if (n == 0) return 0;
    if (lba >= total_sectors_ || n > total_sectors_ - lba)
        return Msg(err_).s("read of LBA ").u(lba).s(" +").u(n).s(" is outside the volume")
            .ret(-kEIO);
    if (dev_.read(dev_.ctx, lba, n, buf) < 0)
        return Msg(err_).s("device read error at LBA ").u(lba).ret(-kEIO);
    return 0;
}

int Volume::dev_write(uint64_t lba, uint32_t n, const void *buf) {
    if (n == 0) return 0;
    if (lba >= total_sectors_ || n > total_sectors_ - lba)
        return Msg(err_).s("write of LBA ").u(lba).s(" +").u(n).s(" is outside the volume")
            .ret(-kEIO);
    if (sec_valid_ && buf != sec_ && sec_lba_ >= lba && sec_lba_ - lba < n) sec_valid_ = false;
    if (dev_.write(dev_.ctx, lba, n, buf) < 0)
        return Msg(err_).s("device write error at LBA ").u(lba).ret(-kEIO);
    return 0;
}

int Volume::dev_flush() {
    if (dev_.flush && dev_.flush(dev_.ctx) < 0)
        return Msg(err_).s("device flush failed").ret(-kEIO);
    return 0;
}

int Volume::load_sector(uint32_t lba) {
    if (sec_valid_ && sec_lba_ == lba) return 0;
    sec_valid_ = false;
    if (int r = dev_read(lba, 1, sec_)) return r;
    sec_lba_ = lba;
    sec_valid_ = true;
    return 0;
}

int Volume::store_sector() {
    if (!sec_valid_) return Msg(err_).s("internal: no sector loaded").ret(-kEIO);
    int r = dev_write(sec_lba_, 1, sec_);
    if (r) sec_valid_ = false;  // the disk may hold either version
    return r;
}

// ---- mount ---------------------------------------------------------------------------------

int Volume::mount(const BlockDev &dev) {
    mounted_ = false;
    cluster_bytes_ = 0;
    err_[0] = 0;
    dev_.ctx = dev.ctx;  // field by field: a struct copy may become a memcpy call
    dev_.read = dev.read;
    dev_.write = dev.write;
    dev_.flush = dev.flush;
    dev_.sectors = dev.sectors;
    sec_valid_ = false;
    zero_ok_ = false;
    vol_dirty_ = false;
    was_clean_ = false;
    for (uint32_t i = 0; i < kMaxNodes; i++) nodes_[i].used = false;
    for (uint32_t i = 0; i < 8; i++) fat_dirty_[i] = 0;
    if (!dev.read || !dev.write)
        return Msg(err_).s("block device has no read/write functions").ret(-kEINVAL);
    if (dev.sectors < 1) return Msg(err_).s("block device is empty").ret(-kEINVAL);

    total_sectors_ = 1;
    if (int r = dev_read(0, 1, sec_)) return r;
    const uint8_t *b = sec_;
    if (b[510] != 0x55 || b[511] != 0xAA)
        return Msg(err_).s("boot sector: signature 55 AA missing (found ").hex(rd16(b + 510))
            .s(")").ret(-kEINVAL);
    const uint32_t bps = rd16(b + 11), spc = b[13], reserved = rd16(b + 14), nfats = b[16];
    const uint32_t root_entries = rd16(b + 17), fatsz = rd16(b + 22);
    const uint32_t total = rd16(b + 19) ? rd16(b + 19) : rd32(b + 32);
    if (bps != 512)
        return Msg(err_).s("BPB: bytes per sector is ").u(bps).s(", only 512 is supported")
            .ret(-kEINVAL);
    if (spc == 0 || spc > 128 || (spc & (spc - 1)))
        return Msg(err_).s("BPB: sectors per cluster is ").u(spc)
            .s(", must be a power of two from 1 to 128").ret(-kEINVAL);
    if (reserved < 1) return Msg(err_).s("BPB: reserved sector count is 0").ret(-kEINVAL);
    if (nfats < 1 || nfats > 2)
        return Msg(err_).s("BPB: number of FATs is ").u(nfats).s(", must be 1 or 2").ret(-kEINVAL);
    if (fatsz == 0)
        return Msg(err_).s("BPB: FAT size is 0 (a FAT32 volume?): only FAT16 is supported")
            .ret(-kEINVAL);
    if (root_entries == 0 || root_entries % 16)
        return Msg(err_).s("BPB: root entry count is ").u(root_entries)
            .s(", must be a nonzero multiple of 16").ret(-kEINVAL);
    if (total == 0) return Msg(err_).s("BPB: total sector count is 0").ret(-kEINVAL);
    if (total > dev.sectors)
        return Msg(err_).s("BPB: total sectors ").u(total).s(" exceed the device (")
            .u(dev.sectors).s(" sectors)").ret(-kEINVAL);
    const uint32_t root_sectors = root_entries / 16;
    const uint64_t data = uint64_t(reserved) + uint64_t(nfats) * fatsz + root_sectors;
    if (data >= total)
        return Msg(err_).s("BPB: no room for data (metadata needs ").u(data).s(" of ").u(total)
            .s(" sectors)").ret(-kEINVAL);
    const uint32_t clusters = uint32_t((total - data) / spc);
    if (clusters < 4085)
        return Msg(err_).s("FAT12 volume (").u(clusters)
            .s(" clusters): only FAT16 is supported").ret(-kEINVAL);
    if (clusters >= 65525)
        return Msg(err_).s("FAT32 volume (").u(clusters)
            .s(" clusters): only FAT16 is supported").ret(-kEINVAL);
    if (uint64_t(fatsz) * 256 < uint64_t(clusters) + 2)
        return Msg(err_).s("BPB: FAT of ").u(fatsz).s(" sectors is too small for ").u(clusters)
            .s(" clusters").ret(-kEINVAL);

    spc_ = spc;
    cluster_bytes_ = spc * 512;
    nfats_ = nfats;
    fat_lba_ = reserved;
    fat_sectors_ = fatsz;
    fat_loaded_ = fatsz < 256 ? fatsz : 256;  // 65536 entries: all FAT16 can address
    root_lba_ = uint32_t(reserved + nfats * fatsz);
    root_entries_ = root_entries;
    data_lba_ = uint32_t(data);
    total_sectors_ = total;
    clusters_ = clusters;

    if (int r = dev_read(fat_lba_, fat_loaded_, fat_)) return r;
    zero_bytes(reinterpret_cast<uint8_t *>(fat_) + fat_loaded_ * 512, sizeof fat_ - fat_loaded_ * 512);
    // Both copies must stay equal: sectors where the second differs are rewritten on the first
    // FAT flush.
    for (uint32_t copy = 1; copy < nfats_; copy++) {
        for (uint32_t s = 0; s < fat_loaded_; s += 128) {
            const uint32_t n = fat_loaded_ - s < 128 ? fat_loaded_ - s : 128;
            if (int r = dev_read(fat_lba_ + copy * fat_sectors_ + s, n, clus_)) return r;
            for (uint32_t k = 0; k < n; k++)
                if (!same_bytes(clus_ + k * 512, reinterpret_cast<uint8_t *>(fat_) + (s + k) * 512,
                                512))
                    fat_dirty_[(s + k) / 32] |= 1u << ((s + k) % 32);
        }
    }
    zero_ok_ = false;
    free_count_ = 0;
    for (uint32_t c = 2; c <= clusters_ + 1; c++)
        if (fat_[c] == 0) free_count_++;
    next_free_ = 2;
    was_clean_ = (fat_[1] & 0x8000) != 0;
    vol_dirty_ = !was_clean_;
    mounted_ = true;
    return 0;
}

uint64_t Volume::free_bytes() const {
    return mounted_ ? uint64_t(free_count_) * cluster_bytes_ : 0;
}

// ---- FAT -----------------------------------------------------------------------------------

uint32_t Volume::clusters_for(uint64_t bytes) const {
    return uint32_t((bytes + cluster_bytes_ - 1) / cluster_bytes_);
}

// Next cluster after c (0: end of chain). Anything else than a valid cluster or an end marker
// in the middle of a chain is an error.
int Volume::fat_next(uint32_t c, uint32_t *next) {
    if (!valid_cluster(c))
        return Msg(err_).s("cluster chain: cluster ").u(c).s(" is outside the volume").ret(-kEIO);
    const uint32_t v = fat_[c];
    if (v >= 0xFFF8) {
        *next = 0;
        return 0;
    }
    if (valid_cluster(v)) {
        *next = v;
        return 0;
    }
    if (v == 0 || v == 1)
        return Msg(err_).s("cluster chain: cluster ").u(c).s(" leads to a free cluster")
            .ret(-kEIO);
    if (v == 0xFFF7)
        return Msg(err_).s("cluster chain: cluster ").u(c).s(" leads to a bad cluster").ret(-kEIO);
    return Msg(err_).s("cluster chain: cluster ").u(c).s(" points outside the volume (")
        .hex(v).s(")").ret(-kEIO);
}

void Volume::fat_set(uint32_t c, uint16_t v) {
    if (c >= fat_loaded_ * 256u) return;  // cannot happen: c <= clusters_ + 1
    fat_[c] = v;
    fat_dirty_[c / 256 / 32] |= 1u << ((c / 256) % 32);
}

// FAT sectors [first, first+count) from the cache to every copy.
int Volume::write_fat_sectors(uint32_t first, uint32_t count) {
    const uint8_t *src = reinterpret_cast<const uint8_t *>(fat_) + first * 512;
    for (uint32_t copy = 0; copy < nfats_; copy++)
        if (int r = dev_write(fat_lba_ + copy * fat_sectors_ + first, count, src)) return r;
    return 0;
}

// Dirty FAT sectors to both copies, after a barrier for the data written before them.
int Volume::flush_fat(bool barrier_after) {
    bool any = false;
    for (uint32_t i = 0; i < 8; i++) any |= fat_dirty_[i] != 0;
    if (!any) return 0;
    if (int r = dev_flush()) return r;
    uint32_t s = 0;
    while (s < fat_loaded_) {
        if (!(fat_dirty_[s / 32] & (1u << (s % 32)))) {
            s++;
            continue;
        }
        uint32_t e = s;
        while (e < fat_loaded_ && (fat_dirty_[e / 32] & (1u << (e % 32)))) e++;
        if (int r = write_fat_sectors(s, e - s)) return r;
        for (uint32_t k = s; k < e; k++) fat_dirty_[k / 32] &= ~(1u << (k % 32));
        s = e;
    }
    return barrier_after ? dev_flush() : 0;
}

// Before the first change after mount (or after sync_all): clear the clean bit on disk.
int Volume::begin_change() {
    if (vol_dirty_) return 0;
    fat_[1] &= 0x7FFF;
    if (int r = write_fat_sectors(0, 1)) return r;
    fat_dirty_[0] &= ~1u;
    if (int r = dev_flush()) return r;
    vol_dirty_ = true;
    return 0;
}

// Clusters in the chain from `first`, checking every link; `why` says what is wrong.
int Volume::chain_length(uint32_t first, uint32_t *len, uint8_t *why) {
    *len = 0;
    *why = kChainOk;
    if (!valid_cluster(first)) {
        *why = kBadOutside;
        return -kEIO;
    }
    uint32_t c = first, n = 1;
    for (;;) {
        const uint32_t v = fat_[c];
        if (v >= 0xFFF8) break;
        if (!valid_cluster(v)) {
            *why = (v == 0 || v == 1) ? kBadFree : v == 0xFFF7 ? kBadMarked : kBadOutside;
            *len = n;
            return -kEIO;
        }
        if (++n > clusters_) {  // more links than clusters: it loops
            *why = kBadLoop;
            *len = clusters_;
            return -kEIO;
        }
        c = v;
    }
    *len = n;
    return 0;
}

int Volume::chain_error(uint8_t why, uint32_t first) {
    Msg m(err_);
    m.s("cluster chain from ").u(first);
    switch (why) {
    case kBadLoop: m.s(" loops"); break;
    case kBadOutside: m.s(" leaves the volume"); break;
    case kBadFree: m.s(" runs into a free cluster"); break;
    case kBadMarked: m.s(" runs into a bad or reserved cluster"); break;
    case kBadShort: m.s(" is shorter than the file size in its directory entry"); break;
    default: m.s(" is damaged"); break;
    }
    return -kEIO;
}

uint32_t Volume::alloc_cluster() {
    if (free_count_ == 0) return 0;
    const uint32_t last = clusters_ + 1;
    if (next_free_ < 2 || next_free_ > last) next_free_ = 2;
    uint32_t c = next_free_;
    for (uint32_t i = 0; i < clusters_; i++) {
        if (fat_[c] == 0) {
            free_count_--;
            next_free_ = c == last ? 2 : c + 1;
            return c;
        }
        c = c == last ? 2 : c + 1;
    }
    free_count_ = 0;  // the count was wrong
    return 0;
}

// Frees a chain in the cache (the caller flushes). Stops at anything that is not a link to a
// valid cluster, so a looping or damaged chain is freed as far as it is sound.
void Volume::free_chain(uint32_t first) {
    uint32_t c = first;
    for (uint32_t i = 0; i < clusters_ && valid_cluster(c); i++) {
        const uint32_t v = fat_[c];
        if (v == 0 || v == 0xFFF7) break;
        fat_set(c, 0);
        free_count_++;
        if (!valid_cluster(v)) break;
        c = v;
    }
}

void Volume::ensure_zero() {
    if (!zero_ok_) zero_bytes(clus_, sizeof clus_);
    zero_ok_ = true;
}

int Volume::zero_cluster(uint32_t c) {
    ensure_zero();
    return dev_write(cluster_lba(c), spc_, clus_);
}

// ---- nodes (open files) ---------------------------------------------------------------------

Volume::Node *Volume::find_node(uint32_t sector, uint16_t offset) {
    for (uint32_t i = 0; i < kMaxNodes; i++)
        if (nodes_[i].used && nodes_[i].sector == sector && nodes_[i].offset == offset)
            return &nodes_[i];
    return nullptr;
}

int Volume::node_of(const File *f, Node **out) {
    if (!mounted_) return Msg(err_).s("volume not mounted").ret(-kENODEV);
    if (!f || !f->used) return Msg(err_).s("file is not open").ret(-kEBADF);
    if (f->dir) return Msg(err_).s("is a directory").ret(-kEISDIR);
    Node *n = find_node(f->dirent_sector, f->dirent_offset);
    if (!n) return Msg(err_).s("file is not open (closed elsewhere?)").ret(-kEBADF);
    *out = n;
    return 0;
}

// The node for entry e, created (and its chain checked) if the file is not open yet.
int Volume::open_node(const Ent &e, Node **out) {
    if (Node *n = find_node(e.lba, e.off)) {
        if (n->refs == 0xFFFF) return Msg(err_).s("file opened too many times").ret(-kENFILE);
        n->refs++;
        *out = n;
        return 0;
    }
    Node *n = nullptr;
    for (uint32_t i = 0; i < kMaxNodes && !n; i++)
        if (!nodes_[i].used) n = &nodes_[i];
    if (!n) return Msg(err_).s("too many open files (").u(kMaxNodes).s(")").ret(-kENFILE);
    n->sector = e.lba;
    n->offset = e.off;
    n->refs = 1;
    n->first_cluster = ent_cluster(e.raw);
    n->size = ent_size(e.raw);
    n->chain_len = 0;
    n->cache_index = 0;
    n->cache_cluster = 0;
    n->dirty = false;
    n->unlinked = false;
    n->bad = kChainOk;
    if (n->first_cluster) {
        uint8_t why;
        if (chain_length(n->first_cluster, &n->chain_len, &why) < 0) n->bad = why;
    }
    if (!n->bad && clusters_for(n->size) > n->chain_len) n->bad = kBadShort;
    n->used = true;
    *out = n;
    return 0;
}

void Volume::mirror(const Node &n, File *f) const {
    f->first_cluster = n.first_cluster;
    f->size = n.size;
    f->dirty = n.dirty;
    f->cache_index = n.cache_index;
    f->cache_cluster = n.cache_cluster;
}

// Cluster number at chain index `index` (< chain_len) and how many clusters from there on are
// consecutive on disk (a run the device can transfer in one request, at most 1 MiB).
int Volume::cluster_run(Node &n, uint32_t index, uint32_t *c, uint32_t *run) {
    if (index >= n.chain_len) return chain_error(kBadShort, n.first_cluster);
    uint32_t i = 0, cl = n.first_cluster;
    if (n.cache_cluster && n.cache_index <= index) {
        i = n.cache_index;
        cl = n.cache_cluster;
    }
    while (i < index) {
        uint32_t nx;
        if (int r = fat_next(cl, &nx)) return r;
        if (!nx) return chain_error(kBadShort, n.first_cluster);
        cl = nx;
        i++;
    }
    if (!valid_cluster(cl)) return chain_error(kBadOutside, n.first_cluster);
    *c = cl;
    const uint32_t max_run = cluster_bytes_ >= (1u << 20) ? 1 : (1u << 20) / cluster_bytes_;
    uint32_t k = 1, x = cl;
    while (k < max_run && index + k < n.chain_len && fat_[x] == x + 1 && valid_cluster(x + 1)) {
        x++;
        k++;
    }
    *run = k;
    n.cache_index = index + k - 1;
    n.cache_cluster = x;
    return 0;
}

// Appends clusters until the chain has `need` (or the disk is full). FAT changes stay in the
// cache until commit(): the data goes to disk before the FAT links to it.
int Volume::extend(Node &n, uint32_t need) {
    uint32_t last = 0;
    if (n.chain_len) {
        uint32_t run;
        if (int r = cluster_run(n, n.chain_len - 1, &last, &run)) return r;
    }
    while (n.chain_len < need) {
        const uint32_t c = alloc_cluster();
        if (!c) break;
        fat_set(c, kEoc);
        if (last)
            fat_set(last, uint16_t(c));
        else
            n.first_cluster = c;
        last = c;
        n.chain_len++;
        n.dirty = true;
        n.cache_index = n.chain_len - 1;
        n.cache_cluster = c;
    }
    return 0;
}

// `len` bytes at byte `off` of a run starting at sector `lba`; `pos` is the file offset of the
// first byte and cur_size the file size (partial sectors past it need no read). src null: zeros.
int Volume::write_span(uint64_t lba, uint32_t off, const uint8_t *src, uint32_t len, uint64_t pos,
                       uint32_t cur_size) {
    lba += off / 512;
    off %= 512;
    while (len) {
        if (off || len < 512) {  // partial sector: read-modify-write through bounce_
            const uint32_t k = 512 - off < len ? 512 - off : len;
            if (pos - off < cur_size) {
                if (int r = dev_read(lba, 1, bounce_)) return r;
            } else {
                zero_bytes(bounce_, 512);
            }
            if (src)
                copy_bytes(bounce_ + off, src, k);
            else
                zero_bytes(bounce_ + off, k);
            if (int r = dev_write(lba, 1, bounce_)) return r;
            if (src) src += k;
            len -= k;
            pos += k;
            off = 0;
            lba++;
            continue;
        }
        uint32_t m = len / 512;
        if (!src) {
            ensure_zero();
            if (m > sizeof clus_ / 512) m = sizeof clus_ / 512;
        }
        if (int r = dev_write(lba, m, src ? src : clus_)) return r;
        if (src) src += m * 512;
        len -= m * 512;
        pos += m * 512;
        lba += m;
    }
    return 0;
}

// Writes at off <= size (the caller fills gaps with zeros first). Returns the bytes written,
// fewer when the disk fills up, -ENOSPC when none.
int64_t Volume::write_node(Node &n, uint32_t off, const uint8_t *src, uint32_t len) {
    if (len == 0) return 0;
    uint64_t end = uint64_t(off) + len;
    const uint32_t need = clusters_for(end);
    if (need > n.chain_len)
        if (int r = extend(n, need)) return r;
    const uint64_t cap = uint64_t(n.chain_len) * cluster_bytes_;
    if (end > cap) end = cap;
    if (end <= off)
        return Msg(err_).s("no space left on the volume").ret(-kENOSPC);
    uint64_t pos = off;
    while (pos < end) {
        uint32_t c, run;
        if (int r = cluster_run(n, uint32_t(pos / cluster_bytes_), &c, &run)) return r;
        const uint32_t in = uint32_t(pos % cluster_bytes_);
        uint64_t span = uint64_t(run) * cluster_bytes_ - in;
        if (span > end - pos) span = end - pos;
        if (int r = write_span(cluster_lba(c), in, src ? src + (pos - off) : nullptr,
                               uint32_t(span), pos, n.size))
            return r;
        pos += span;
        if (pos > n.size) n.size = uint32_t(pos);
        n.dirty = true;
    }
    return int64_t(end - off);
}

// Grows the file with zeros to `size` (all or nothing as far as free space goes).
int Volume::grow_zero(Node &n, uint32_t size) {
    if (size <= n.size) return 0;
    const uint32_t need = clusters_for(size);
    if (need > n.chain_len && need - n.chain_len > free_count_)
        return Msg(err_).s("no space left on the volume (need ").u(need - n.chain_len)
            .s(" clusters, ").u(free_count_).s(" free)").ret(-kENOSPC);
    const int64_t r = write_node(n, n.size, nullptr, size - n.size);
    if (r < 0) return int(r);
    if (n.size != size) return Msg(err_).s("no space left on the volume").ret(-kENOSPC);
    return 0;
}

// The node's size and first cluster into its directory entry (the FAT must already be on disk).
int Volume::write_entry(Node &n) {
    if (n.unlinked) return 0;
    if (int r = load_sector(n.sector)) return r;
    uint8_t *e = sec_ + n.offset;
    if (e[0] == 0 || e[0] == 0xE5 || (e[11] & 0x3F) == kAttrLfn || (e[11] & (kAttrDir | kAttrLabel)))
        return Msg(err_).s("directory entry at LBA ").u(n.sector).s("+").u(n.offset)
            .s(" no longer holds the open file").ret(-kEIO);
    wr16(e + 26, uint16_t(n.first_cluster));
    wr16(e + 20, 0);
    wr32(e + 28, n.size);
    wr16(e + 22, kStampTime);
    wr16(e + 24, kStampDate);
    wr16(e + 18, kStampDate);
    e[11] |= kAttrArchive;
    if (int r = store_sector()) return r;
    n.dirty = false;
    return 0;
}

// Data (already written), FAT, then the entry.
int Volume::commit(Node &n) {
    if (int r = flush_fat(true)) return r;
    if (!n.dirty || n.unlinked) return 0;
    return write_entry(n);
}

int Volume::truncate_node(Node &n, uint32_t size) {
    if (size == n.size) return 0;
    if (n.bad && size != 0) return chain_error(n.bad, n.first_cluster);
    if (int r = begin_change()) return r;
    if (size > n.size) return grow_zero(n, size);
    const uint32_t keep = clusters_for(size);
    const uint32_t old_first = n.first_cluster;
    if (keep >= n.chain_len && !n.bad) {  // nothing to free: the entry is updated on sync
        n.size = size;
        n.dirty = true;
        return 0;
    }
    uint32_t last = 0, tail = old_first;
    if (keep) {
        uint32_t run;
        if (int r = cluster_run(n, keep - 1, &last, &run)) return r;
        tail = fat_[last] >= 0xFFF8 ? 0 : fat_[last];
    }
    // The entry stops referencing the clusters before they are freed.
    n.size = size;
    if (!keep) n.first_cluster = 0;
    n.dirty = true;
    if (int r = commit(n)) return r;
    if (keep) fat_set(last, kEoc);
    if (tail) free_chain(tail);
    n.chain_len = keep;
    n.cache_index = 0;
    n.cache_cluster = 0;
    n.bad = kChainOk;
    return flush_fat(false);
}

// One File less on the node; the last one frees the clusters of an unlinked file.
int Volume::release(Node &n) {
    if (n.refs) n.refs--;
    if (n.refs) return 0;
    int r = 0;
    if (n.unlinked && n.first_cluster) {
        if (!(r = begin_change())) {
            free_chain(n.first_cluster);
            r = flush_fat(false);
        }
    }
    n.used = false;
    return r;
}

// ---- file API ------------------------------------------------------------------------------

int64_t Volume::read(File *f, uint64_t off, void *buf, uint64_t len) {
    Node *n;
    if (int r = node_of(f, &n)) return r;
    if (n->bad) return chain_error(n->bad, n->first_cluster);
    if (off >= n->size || len == 0) {
        mirror(*n, f);
        return 0;
    }
    if (len > n->size - off) len = n->size - off;
    uint8_t *dst = static_cast<uint8_t *>(buf);
    uint64_t pos = off;
    const uint64_t end = off + len;
    while (pos < end) {
        uint32_t c, run;
        if (int r = cluster_run(*n, uint32_t(pos / cluster_bytes_), &c, &run)) return r;
        const uint32_t in = uint32_t(pos % cluster_bytes_);
        uint64_t span = uint64_t(run) * cluster_bytes_ - in;
        if (span > end - pos) span = end - pos;
        uint64_t lba = cluster_lba(c) + in / 512;
        uint32_t o = in % 512;
        while (span) {
            if (o || span < 512) {
                const uint32_t k = 512 - o < span ? 512 - o : uint32_t(span);
                if (int r = dev_read(lba, 1, bounce_)) return r;
                copy_bytes(dst, bounce_ + o, k);
                dst += k;
                span -= k;
                pos += k;
                o = 0;
                lba++;
                continue;
            }
            const uint32_t m = uint32_t(span / 512);
            if (int r = dev_read(lba, m, dst)) return r;
            dst += uint64_t(m) * 512;
            span -= uint64_t(m) * 512;
            pos += uint64_t(m) * 512;
            lba += m;
        }
    }
    mirror(*n, f);
    return int64_t(len);
}

int64_t Volume::write(File *f, uint64_t off, const void *buf, uint64_t len) {
    Node *n;
    if (int r = node_of(f, &n)) return r;
    if (n->bad) return chain_error(n->bad, n->first_cluster);
    if (len == 0) return 0;
    if (off >= 0xFFFFFFFFull)
        return Msg(err_).s("offset beyond FAT's 4 GiB file size limit").ret(-kEFBIG);
    if (len > 0xFFFFFFFFull - off) len = 0xFFFFFFFFull - off;
    if (int r = begin_change()) return r;
    if (off > n->size) {  // sparse write: the gap reads as zeros
        const uint32_t need = clusters_for(off + 1);
        if (need > n->chain_len && need - n->chain_len > free_count_)
            return Msg(err_).s("no space left on the volume").ret(-kENOSPC);
        if (int r = grow_zero(*n, uint32_t(off))) {
            mirror(*n, f);
            return r;
        }
    }
    const int64_t r = write_node(*n, uint32_t(off), static_cast<const uint8_t *>(buf),
                                 uint32_t(len));
    mirror(*n, f);
    return r;
}

int Volume::truncate(File *f, uint64_t size) {
    Node *n;
    if (int r = node_of(f, &n)) return r;
    if (size > 0xFFFFFFFFull)
        return Msg(err_).s("size beyond FAT's 4 GiB file size limit").ret(-kEFBIG);
    const int r = truncate_node(*n, uint32_t(size));
    mirror(*n, f);
    return r;
}

int Volume::sync(File *f) {
    if (!mounted_) return Msg(err_).s("volume not mounted").ret(-kENODEV);
    if (!f || !f->used) return Msg(err_).s("file is not open").ret(-kEBADF);
    if (!f->dir) {
        Node *n;
        if (int r = node_of(f, &n)) return r;
        if (int r = commit(*n)) return r;
        mirror(*n, f);
    }
    return dev_flush();
}

int Volume::close(File *f) {
    if (!mounted_) return Msg(err_).s("volume not mounted").ret(-kENODEV);
    if (!f || !f->used) return Msg(err_).s("file is not open").ret(-kEBADF);
    int r = 0;
    if (!f->dir) {
        Node *n;
        r = node_of(f, &n);
        if (!r) {
            r = commit(*n);
            if (!r) r = dev_flush();
            const int r2 = release(*n);
            if (!r) r = r2;
        }
    }
    f->used = false;
    return r;
}

int Volume::sync_all() {
    if (!mounted_) return Msg(err_).s("volume not mounted").ret(-kENODEV);
    if (int r = flush_fat(true)) return r;
    for (uint32_t i = 0; i < kMaxNodes; i++)
        if (nodes_[i].used && nodes_[i].dirty && !nodes_[i].unlinked)
            if (int r = write_entry(nodes_[i])) return r;
    if (int r = dev_flush()) return r;
    // Clean only if nothing is pending: an unlinked file still open owns clusters no entry
    // points to.
    bool pending = false;
    for (uint32_t i = 0; i < kMaxNodes; i++)
        pending |= nodes_[i].used && nodes_[i].unlinked && nodes_[i].first_cluster;
    if (vol_dirty_ && was_clean_ && !pending) {
        fat_[1] |= 0x8000;
        if (int r = write_fat_sectors(0, 1)) return r;
        if (int r = dev_flush()) return r;
        vol_dirty_ = false;
    }
    return 0;
}

}  // namespace bf::fs
