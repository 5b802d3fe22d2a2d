// FAT16 engine, part 1: mount, the device, the FAT cache, cluster chains. Open files and their
// data are in fat16_file.cpp; directories, names and paths in fat16_dir.cpp / fat16_names.cpp.
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
    if (first == 0 && why == kBadShort)  // no chain at all: say so rather than "chain from 0"
        return m.s("the directory entry has no clusters (first cluster 0) but a nonzero size").ret(-kEIO);
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

}  // namespace bf::fs
