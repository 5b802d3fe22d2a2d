// FAT16 engine: open files (nodes shared by every File of the same entry) and file data:
// cluster runs, extension and truncation, read/write/sync/close. Crash-safety ordering as in
// fat16.cpp's header: data, then both FATs, then the directory entry (commit()).
#include "fat16_internal.h"

namespace bf::fs {

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
