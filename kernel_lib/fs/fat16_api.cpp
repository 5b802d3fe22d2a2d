// FAT16 engine, part 3: the calls that take paths (open, stat, readdir, mkdir, unlink, rmdir,
// rename), on top of the directory machinery in fat16_dir.cpp.
#include "fat16_internal.h"

namespace bf::fs {

using namespace detail;

// ---- path API ------------------------------------------------------------------------------

int Volume::open(const char *path, int flags, File *out) {
    if (!mounted_) return Msg(err_).s("volume not mounted").ret(-kENODEV);
    if (!out) return Msg(err_).s("no File").ret(-kEINVAL);
    out->used = false;
    Path p;
    if (int r = resolve(path, &p)) return r;
    const bool writing = (flags & 3) != kRdOnly;
    auto opened = [out, this](Node *n) {  // a regular file: out follows its node
        out->dir = false;
        out->dirent_sector = n->sector;
        out->dirent_offset = n->offset;
        mirror(*n, out);
        out->used = true;
        return 0;
    };
    if (p.found) {
        if ((flags & kCreat) && (flags & kExcl)) return Msg(err_).s("file exists").ret(-kEEXIST);
        if (p.root || ent_is_dir(p.e.raw)) {
            if (writing || (flags & kTrunc))
                return Msg(err_).s("is a directory").ret(-kEISDIR);
            const uint32_t c = p.root ? 0 : ent_cluster(p.e.raw);
            if (!p.root && !valid_cluster(c))
                return Msg(err_).s("directory entry points to cluster ").u(c).ret(-kEIO);
            out->dir = true;
            out->first_cluster = c;
            out->size = 0;
            out->dirent_sector = p.root ? 0 : p.e.lba;
            out->dirent_offset = p.root ? 0 : p.e.off;
            out->cache_index = 0;
            out->cache_cluster = 0;
            out->dirty = false;
            out->used = true;
            return 0;
        }
        if (flags & kDirectory) return Msg(err_).s("not a directory").ret(-kENOTDIR);
        Node *n;
        if (int r = open_node(p.e, &n)) return r;
        if ((flags & kTrunc) && (n->size || n->first_cluster)) {
            if (int r = truncate_node(*n, 0)) {
                release(*n);
                return r;
            }
        }
        return opened(n);
    }
    if (!(flags & kCreat)) return Msg(err_).s("no such file or directory").ret(-kENOENT);
    if (p.slash) return Msg(err_).s("cannot create a file with a trailing '/'").ret(-kEISDIR);
    if (flags & kDirectory) return Msg(err_).s("O_CREAT with O_DIRECTORY").ret(-kEINVAL);
    if (int r = name_to16(p.name, p.len, true)) return r;
    bool room = false;
    for (uint32_t i = 0; i < kMaxNodes; i++) room |= !nodes_[i].used;
    if (!room) return Msg(err_).s("too many open files (").u(kMaxNodes).s(")").ret(-kENFILE);
    if (int r = begin_change()) return r;
    uint8_t raw[32];
    zero_bytes(raw, 32);
    raw[11] = kAttrArchive;
    stamp(raw);
    Ent e;
    bool gone;
    if (int r = add_entry(p.parent, raw, nullptr, &e, &gone)) return r;
    Node *n;
    if (int r = open_node(e, &n)) return r;
    return opened(n);
}

int Volume::stat(const char *path, Stat *out) {
    if (!mounted_) return Msg(err_).s("volume not mounted").ret(-kENODEV);
    Path p;
    if (int r = resolve(path, &p)) return r;
    if (!p.found) return Msg(err_).s("no such file or directory").ret(-kENOENT);
    if (p.root) {
        out->dir = true;
        out->size = out->first_cluster = 0;
        out->fat_time = out->fat_date = 0;
        return 0;
    }
    fill_stat(p.e.raw, out);
    if (!out->dir)
        if (const Node *n = find_node(p.e.lba, p.e.off)) {
            out->size = n->size;
            out->first_cluster = n->first_cluster;
        }
    return 0;
}

int Volume::fstat(const File *f, Stat *out) {
    if (!mounted_) return Msg(err_).s("volume not mounted").ret(-kENODEV);
    if (!f || !f->used) return Msg(err_).s("file is not open").ret(-kEBADF);
    if (f->dir) {
        out->dir = true;
        out->size = 0;
        out->first_cluster = f->first_cluster;
        out->fat_time = out->fat_date = 0;
        if (f->dirent_sector == 0) return 0;
        uint8_t raw[32];
        if (int r = read_raw(f->dirent_sector, f->dirent_offset, raw)) return r;
        out->fat_time = rd16(raw + 22);
        out->fat_date = rd16(raw + 24);
        return 0;
    }
    Node *n;
    if (int r = node_of(f, &n)) return r;
    out->dir = false;
    out->size = n->size;
    out->first_cluster = n->first_cluster;
    out->fat_time = out->fat_date = 0;
    if (n->unlinked) return 0;
    uint8_t raw[32];
    if (int r = read_raw(n->sector, n->offset, raw)) return r;
    out->fat_time = rd16(raw + 22);
    out->fat_date = rd16(raw + 24);
    return 0;
}

int Volume::readdir(File *dir, uint64_t *cookie, DirEntry *out) {
    if (!mounted_) return Msg(err_).s("volume not mounted").ret(-kENODEV);
    if (!dir || !dir->used) return Msg(err_).s("directory is not open").ret(-kEBADF);
    if (!dir->dir) return Msg(err_).s("not a directory").ret(-kENOTDIR);
    if (*cookie >= kMaxDirSlots) return 0;
    Scan s;
    if (int r = scan_open(s, dir->first_cluster, *cookie == 0)) return r;
    if (int r = scan_seek(s, uint32_t(*cookie), dir->cache_index, dir->cache_cluster)) return r;
    for (;;) {
        const uint8_t *p;
        int kind;
        const int r = scan_next(s, &p, &kind);
        if (r <= 0) {
            if (r == 0) *cookie = s.index;
            return r;
        }
        if (kind == kSlotEnd) {
            *cookie = s.index - 1;
            return 0;
        }
        if (kind != kSlotShort) continue;
        int n = -1;
        if (s.lfn_len) n = utf16_to_8(lfn_, s.lfn_len, out->name, sizeof out->name);
        if (n <= 0) {
            uint16_t sn[13];
            const uint32_t sl = short_to16(p, sn, true);
            if (utf16_to_8(sn, sl, out->name, sizeof out->name) <= 0) {  // '/', NUL or empty
                for (uint32_t i = 0; i < sl; i++)
                    out->name[i] = sn[i] > 0x20 && sn[i] < 0x7F && sn[i] != '/' ? char(sn[i]) : '_';
                out->name[sl] = 0;
                if (sl == 0) out->name[0] = '_', out->name[1] = 0;  // a blank name on disk
            }
        }
        out->dir = ent_is_dir(p);
        out->size = out->dir ? 0 : ent_size(p);
        if (!out->dir)
            if (const Node *nd = find_node(s.lba, s.off)) out->size = nd->size;
        *cookie = s.index;
        if (s.dir) {
            dir->cache_index = s.ci;
            dir->cache_cluster = s.cl;
        }
        return 1;
    }
}

int Volume::mkdir(const char *path) {
    if (!mounted_) return Msg(err_).s("volume not mounted").ret(-kENODEV);
    Path p;
    if (int r = resolve(path, &p)) return r;
    if (p.found) return Msg(err_).s("file exists").ret(-kEEXIST);
    if (int r = name_to16(p.name, p.len, true)) return r;
    if (int r = begin_change()) return r;
    const uint32_t c = alloc_cluster();
    if (!c) return Msg(err_).s("no space left on the volume").ret(-kENOSPC);
    // The new directory's cluster ("." and ".."), then the FAT, then its entry.
    ensure_zero();
    zero_ok_ = false;
    uint8_t *dot = clus_, *dotdot = clus_ + 32;
    set_name11(dot, ".          ");
    set_name11(dotdot, "..         ");
    dot[11] = dotdot[11] = kAttrDir;
    stamp(dot);
    stamp(dotdot);
    wr16(dot + 26, uint16_t(c));
    wr16(dotdot + 26, uint16_t(p.parent));
    int r = dev_write(cluster_lba(c), spc_, clus_);
    zero_bytes(clus_, 64);
    zero_ok_ = true;
    if (!r) {
        fat_set(c, kEoc);
        r = flush_fat(true);
    }
    if (!r) {
        uint8_t raw[32];
        zero_bytes(raw, 32);
        raw[11] = kAttrDir;
        stamp(raw);
        wr16(raw + 26, uint16_t(c));
        Ent e;
        bool gone;
        r = add_entry(p.parent, raw, nullptr, &e, &gone);
    }
    if (r) {
        if (fat_[c]) fat_set(c, 0);
        free_count_++;
        flush_fat(false);
    }
    return r;
}

int Volume::unlink(const char *path) {
    if (!mounted_) return Msg(err_).s("volume not mounted").ret(-kENODEV);
    Path p;
    if (int r = resolve(path, &p)) return r;
    if (!p.found) return Msg(err_).s("no such file").ret(-kENOENT);
    if (p.root || p.len == 0 || ent_is_dir(p.e.raw))
        return Msg(err_).s("is a directory (use rmdir)").ret(-kEISDIR);
    if (int r = begin_change()) return r;
    Node *n = find_node(p.e.lba, p.e.off);
    if (int r = delete_entry(p.e)) return r;
    if (n) {  // still open: the clusters go when the last File is closed
        n->unlinked = true;
        return 0;
    }
    if (const uint32_t c = ent_cluster(p.e.raw)) free_chain(c);
    return flush_fat(false);
}

int Volume::rmdir(const char *path) {
    if (!mounted_) return Msg(err_).s("volume not mounted").ret(-kENODEV);
    Path p;
    if (int r = resolve(path, &p)) return r;
    if (!p.found) return Msg(err_).s("no such directory").ret(-kENOENT);
    if (p.root) return Msg(err_).s("cannot remove the root directory").ret(-kEBUSY);
    if (p.len == 0) return Msg(err_).s("cannot remove '.' or '..'").ret(-kEINVAL);
    if (!ent_is_dir(p.e.raw)) return Msg(err_).s("not a directory").ret(-kENOTDIR);
    const uint32_t c = ent_cluster(p.e.raw);
    if (c) {
        const int r = dir_empty(c);
        if (r < 0) return r;
        if (r == 0) return Msg(err_).s("directory not empty").ret(-kENOTEMPTY);
    }
    if (int r = begin_change()) return r;
    if (int r = delete_entry(p.e)) return r;
    if (c) free_chain(c);
    return flush_fat(false);
}

int Volume::rename(const char *from, const char *to) {
    if (!mounted_) return Msg(err_).s("volume not mounted").ret(-kENODEV);
    Path pf;
    if (int r = resolve(from, &pf)) return r;
    if (!pf.found) return Msg(err_).s("no such file or directory").ret(-kENOENT);
    if (pf.root) return Msg(err_).s("cannot rename the root directory").ret(-kEBUSY);
    if (pf.len == 0) return Msg(err_).s("cannot rename '.' or '..'").ret(-kEINVAL);
    Ent src;
    copy_bytes(&src, &pf.e, sizeof src);
    if (find_node(src.lba, src.off)) return Msg(err_).s("source is open").ret(-kEBUSY);
    const bool src_dir = ent_is_dir(src.raw);
    const uint32_t src_cl = ent_cluster(src.raw);

    Path pt;
    if (int r = resolve(to, &pt)) return r;
    if (pt.root) return Msg(err_).s("cannot replace the root directory").ret(-kEBUSY);
    if (pt.len == 0) return Msg(err_).s("cannot rename to '.' or '..'").ret(-kEINVAL);
    if (pt.slash && !src_dir) return Msg(err_).s("not a directory").ret(-kENOTDIR);
    if (src_dir && src_cl) {  // not into itself or its own subtree
        for (uint32_t k = 1; k <= pt.depth; k++)
            if (stack_[k].cluster == src_cl)
                return Msg(err_).s("cannot move a directory into itself").ret(-kEINVAL);
    }
    const bool self = pt.found && pt.e.lba == src.lba && pt.e.off == src.off;
    if (self) {  // the same entry: only the spelling may change
        uint16_t cur[256];
        uint32_t cl = pt.e.lfn_len;
        if (cl) copy_bytes(cur, lfn_, cl * 2);
        else cl = short_to16(pt.e.raw, cur, true);
        if (int r = name_to16(pt.name, pt.len, true)) return r;
        if (eq_exact(cur, cl, name16_, name_len_)) return 0;
    } else {
        if (int r = name_to16(pt.name, pt.len, true)) return r;
    }

    if (pt.found && !self) {  // replace the destination
        if (find_node(pt.e.lba, pt.e.off)) return Msg(err_).s("destination is open").ret(-kEBUSY);
        const bool dst_dir = ent_is_dir(pt.e.raw);
        if (src_dir && !dst_dir) return Msg(err_).s("destination is not a directory").ret(-kENOTDIR);
        if (!src_dir && dst_dir) return Msg(err_).s("destination is a directory").ret(-kEISDIR);
        const uint32_t dst_cl = ent_cluster(pt.e.raw);
        if (dst_dir && dst_cl) {
            const int r = dir_empty(dst_cl);
            if (r < 0) return r;
            if (r == 0) return Msg(err_).s("destination directory not empty").ret(-kENOTEMPTY);
        }
        if (int r = begin_change()) return r;
        uint32_t a = 0, b = 0;
        if (int r = slot_lba(src.dir, src.first, &a)) return r;
        if (int r = slot_lba(src.dir, src.index, &b)) return r;
        // The destination's entry takes the source's data (its name stays). When the source's
        // slots share the destination's sector this is one sector write. Otherwise the source goes
        // first: a power cut between the two writes then leaves the old destination intact and the
        // new data's clusters unreferenced (fsck: lost clusters), never two entries sharing them.
        const bool merged = a == pt.e.lba && b == pt.e.lba;
        if (!merged)
            if (int r = delete_entry(src)) return r;
        if (int r = load_sector(pt.e.lba)) return r;
        uint8_t *e = sec_ + pt.e.off;
        e[11] = src.raw[11];
        for (uint32_t i = 13; i < 32; i++) e[i] = src.raw[i];
        if (merged)
            for (uint32_t idx = src.first; idx <= src.index; idx++) sec_[(idx % 16) * 32] = 0xE5;
        if (int r = store_sector()) return r;
        if (src_dir && pt.parent != src.dir)
            if (int r = set_dotdot(src_cl, pt.parent)) return r;
        if (dst_cl) free_chain(dst_cl);  // only now that no entry points to it
        return flush_fat(false);
    }

    if (int r = begin_change()) return r;
    uint8_t raw[32];
    copy_bytes(raw, src.raw, 32);
    Ent ne;
    bool gone = false;
    if (int r = add_entry(pt.parent, raw, pt.parent == src.dir ? &src : nullptr, &ne, &gone))
        return r;
    if (!gone)
        if (int r = delete_entry(src)) return r;
    if (src_dir && pt.parent != src.dir)
        if (int r = set_dotdot(src_cl, pt.parent)) return r;
    return 0;
}

}  // namespace bf::fs
