// FAT16 engine, part 2: directory scanning and changes, path resolution. Name conversion and
// comparison are in fat16_names.cpp; the calls that take paths are in fat16_api.cpp.
#include "fat16_internal.h"

namespace bf::fs {
namespace detail {  // entry helpers shared with fat16_api.cpp (declared in fat16_internal.h)

void set_name11(uint8_t *raw, const char *name11) {
    for (int i = 0; i < 11; i++) raw[i] = uint8_t(name11[i]);
}

void stamp(uint8_t *raw) {
    raw[13] = 0;
    wr16(raw + 14, kStampTime);
    wr16(raw + 16, kStampDate);
    wr16(raw + 18, kStampDate);
    wr16(raw + 22, kStampTime);
    wr16(raw + 24, kStampDate);
}

}  // namespace detail
using namespace detail;

// ---- directory scanning ----------------------------------------------------------------------

int Volume::scan_open(Scan &s, uint32_t dir, bool validate) {
    s.dir = dir;
    s.index = 0;
    s.ci = 0;
    s.cl = dir;
    s.lba = 0;
    s.off = 0;
    s.lfn_state = 0;
    s.lfn_len = 0;
    s.run = 0;
    if (dir == 0) {
        s.limit = root_entries_;
        return 0;
    }
    if (!valid_cluster(dir))
        return Msg(err_).s("directory starts at cluster ").u(dir).s(", outside the volume")
            .ret(-kEIO);
    s.limit = kMaxDirSlots;
    if (validate) {
        uint32_t len;
        uint8_t why;
        if (chain_length(dir, &len, &why) < 0) return chain_error(why, dir);
        const uint64_t slots = uint64_t(len) * (cluster_bytes_ / 32);
        if (slots < s.limit) s.limit = uint32_t(slots);
    }
    return 0;
}

// Continue at slot `index`; (hint_ci, hint_cl): a known (cluster index, cluster) of the chain.
int Volume::scan_seek(Scan &s, uint32_t index, uint32_t hint_ci, uint32_t hint_cl) {
    s.index = index;
    s.lfn_state = 0;
    if (s.dir == 0 || index >= s.limit) return 0;
    const uint32_t ci = uint32_t(uint64_t(index) * 32 / cluster_bytes_);
    s.ci = 0;
    s.cl = s.dir;
    if (hint_cl && valid_cluster(hint_cl) && hint_ci <= ci) {
        s.ci = hint_ci;
        s.cl = hint_cl;
    }
    while (s.ci < ci) {
        uint32_t nx;
        if (int r = fat_next(s.cl, &nx)) return r;
        if (!nx) {
            s.limit = index;
            return 0;
        }
        s.cl = nx;
        s.ci++;
    }
    return 0;
}

// The next slot (valid until the next sector is loaded) and its kind; 1, or 0 at the end of the
// directory. Long names are assembled on the way: at a short entry, lfn_len/lfn_ hold its long
// name if one with the right checksum and sequence preceded it, and run is its first slot.
int Volume::scan_next(Scan &s, const uint8_t **slot, int *kind) {
    if (s.index >= s.limit) return 0;
    uint32_t lba;
    if (s.dir == 0) {
        lba = root_lba_ + s.index / 16;
    } else {
        const uint64_t byte = uint64_t(s.index) * 32;
        const uint32_t ci = uint32_t(byte / cluster_bytes_);
        while (s.ci < ci) {
            uint32_t nx;
            if (int r = fat_next(s.cl, &nx)) return r;
            if (!nx) {
                s.limit = s.index;
                return 0;
            }
            s.cl = nx;
            s.ci++;
        }
        if (!valid_cluster(s.cl)) return chain_error(kBadOutside, s.dir);
        lba = uint32_t(cluster_lba(s.cl) + (byte % cluster_bytes_) / 512);
    }
    if (int r = load_sector(lba)) return r;
    const uint8_t *p = sec_ + (s.index % 16) * 32;
    s.lba = lba;
    s.off = uint16_t((s.index % 16) * 32);
    *slot = p;
    const uint8_t b0 = p[0], attr = p[11];
    if (b0 == 0) {
        *kind = kSlotEnd;
        s.lfn_state = 0;
    } else if (b0 == 0xE5) {
        *kind = kSlotFree;
        s.lfn_state = 0;
    } else if ((attr & 0x3F) == kAttrLfn) {
        *kind = kSlotLfn;
        const uint32_t ord = b0 & 0x1F;
        bool take = false;
        if (b0 & 0x40) {
            if (ord >= 1 && ord <= 20 && !(b0 & 0x80)) {
                s.lfn_state = 1;
                s.lfn_sum = p[13];
                s.lfn_slots = uint8_t(ord);
                s.run = s.index;
                take = true;
            } else {
                s.lfn_state = 0;
            }
        } else if (s.lfn_state == 1 && b0 == s.lfn_expect && p[13] == s.lfn_sum) {
            take = true;
        } else {
            s.lfn_state = 0;
        }
        if (take) {
            for (uint32_t k = 0; k < 13; k++) lfn_[(ord - 1) * 13 + k] = rd16(p + kLfnPos[k]);
            s.lfn_expect = uint8_t(ord - 1);
            if (s.lfn_expect == 0) s.lfn_state = 2;
        }
    } else {
        *kind = (attr & kAttrLabel) ? kSlotLabel : kSlotShort;
        s.lfn_len = 0;
        if (s.lfn_state == 2 && s.lfn_sum == lfn_checksum(p)) {
            uint32_t n = 0;
            const uint32_t max = uint32_t(s.lfn_slots) * 13;
            while (n < max && lfn_[n] != 0) n++;
            if (n > 0 && n <= 255) s.lfn_len = n;
        }
        if (!s.lfn_len) s.run = s.index;
        s.lfn_state = 0;
    }
    s.index++;
    return 1;
}

// Finds name16_ in directory `dir`: 1 found (*out filled), 0 not found.
int Volume::lookup(uint32_t dir, Ent *out) {
    Scan s;
    if (int r = scan_open(s, dir, true)) return r;
    uint16_t sn[13];
    for (;;) {
        const uint8_t *p;
        int kind;
        const int r = scan_next(s, &p, &kind);
        if (r <= 0) return r;
        if (kind == kSlotEnd) return 0;
        if (kind != kSlotShort || ent_is_dot(p)) continue;
        bool hit = s.lfn_len && eq_fold(lfn_, s.lfn_len, name16_, name_len_);
        if (!hit) {
            const uint32_t n = short_to16(p, sn, false);
            hit = eq_fold(sn, n, name16_, name_len_);
        }
        if (!hit) continue;
        copy_bytes(out->raw, p, 32);
        out->dir = dir;
        out->index = s.index - 1;
        out->first = s.run;
        out->lba = s.lba;
        out->off = s.off;
        out->lfn_len = uint16_t(s.lfn_len);
        return 1;
    }
}

int Volume::read_raw(uint32_t lba, uint16_t off, uint8_t *raw) {
    if (int r = load_sector(lba)) return r;
    copy_bytes(raw, sec_ + (off & 0x1E0), 32);
    return 0;
}

int Volume::resolve(const char *path, Path *p) {
    p->parent = 0;
    p->name = nullptr;
    p->len = 0;
    p->depth = 0;
    p->found = p->root = p->slash = false;
    if (!path) return Msg(err_).s("no path").ret(-kEINVAL);
    uint32_t depth = 0, i = 0;
    stack_[0].cluster = 0;
    stack_[0].lba = 0;
    stack_[0].off = 0;
    for (;;) {
        while (path[i] == '/') i++;
        if (path[i] == 0) {  // the path names the directory stack_[depth]
            p->found = true;
            if (depth == 0) {
                p->root = true;
                return 0;
            }
            p->depth = depth - 1;
            p->parent = stack_[depth - 1].cluster;
            if (int r = read_raw(stack_[depth].lba, stack_[depth].off, p->e.raw)) return r;
            p->e.dir = p->parent;
            p->e.index = p->e.first = kNoIndex;
            p->e.lba = stack_[depth].lba;
            p->e.off = stack_[depth].off;
            p->e.lfn_len = 0;
            return 0;
        }
        const uint32_t start = i;
        while (path[i] && path[i] != '/') {
            i++;
            if (i - start > 255 * 4)
                return Msg(err_).s("name is longer than 255 characters").ret(-kENAMETOOLONG);
        }
        const uint32_t len = i - start;
        uint32_t j = i;
        while (path[j] == '/') j++;
        const bool last = path[j] == 0;
        if (len == 1 && path[start] == '.') continue;
        if (len == 2 && path[start] == '.' && path[start + 1] == '.') {
            if (depth > 0) depth--;
            continue;
        }
        const int nr = name_to16(path + start, len, false);
        if (nr == -kENAMETOOLONG) return nr;
        if (last) {
            p->parent = stack_[depth].cluster;
            p->depth = depth;
            p->name = path + start;
            p->len = len;
            p->slash = j != i;
            if (nr < 0) return 0;  // not valid UTF-8: cannot exist
            const int r = lookup(p->parent, &p->e);
            if (r < 0) return r;
            p->found = r == 1;
            if (p->found && p->slash && !ent_is_dir(p->e.raw))
                return Msg(err_).s("not a directory (path ends with '/')").ret(-kENOTDIR);
            return 0;
        }
        if (nr < 0) return Msg(err_).s("no such directory").ret(-kENOENT);
        const int r = lookup(stack_[depth].cluster, &p->e);
        if (r < 0) return r;
        if (r == 0) return Msg(err_).s("no such directory on the path").ret(-kENOENT);
        if (!ent_is_dir(p->e.raw)) return Msg(err_).s("a path component is a file").ret(-kENOTDIR);
        const uint32_t c = ent_cluster(p->e.raw);
        if (!valid_cluster(c))
            return Msg(err_).s("directory entry points to cluster ").u(c).s(", not a directory")
                .ret(-kEIO);
        if (depth + 1 >= kMaxDepth)
            return Msg(err_).s("path is deeper than ").u(kMaxDepth).s(" directories")
                .ret(-kENAMETOOLONG);
        depth++;
        stack_[depth].cluster = c;
        stack_[depth].lba = p->e.lba;
        stack_[depth].off = p->e.off;
    }
}

// ---- directory changes -----------------------------------------------------------------------

int Volume::slot_lba(uint32_t dir, uint32_t index, uint32_t *lba) {
    if (dir == 0) {
        if (index >= root_entries_) return Msg(err_).s("root slot out of range").ret(-kEIO);
        *lba = root_lba_ + index / 16;
        return 0;
    }
    const uint64_t byte = uint64_t(index) * 32;
    uint32_t c = dir;
    for (uint32_t k = uint32_t(byte / cluster_bytes_); k; k--) {
        uint32_t nx;
        if (int r = fat_next(c, &nx)) return r;
        if (!nx) return Msg(err_).s("directory slot beyond its chain").ret(-kEIO);
        c = nx;
    }
    if (!valid_cluster(c)) return chain_error(kBadOutside, dir);
    *lba = uint32_t(cluster_lba(c) + (byte % cluster_bytes_) / 512);
    return 0;
}

// Makes the sector holding slot `index` of `dir` the loaded one for a run of slot writes:
// the previous sector of the run (*cur, if *loaded) is stored first when it differs.
int Volume::load_slot_sector(uint32_t dir, uint32_t index, uint32_t *cur, bool *loaded) {
    uint32_t lba;
    if (int r = slot_lba(dir, index, &lba)) return r;
    if (*loaded && lba == *cur) return 0;
    if (*loaded) {
        if (int r = store_sector()) return r;
        *loaded = false;
    }
    if (int r = load_sector(lba)) return r;
    *cur = lba;
    *loaded = true;
    return 0;
}

int Volume::grow_dir(uint32_t dir, uint32_t limit, uint32_t slots) {
    if (dir == 0)
        return Msg(err_).s("root directory is full (").u(root_entries_).s(" entries)")
            .ret(-kENOSPC);
    const uint32_t per = cluster_bytes_ / 32;
    const uint32_t add = (slots + per - 1) / per;
    if (uint64_t(limit) + uint64_t(add) * per > kMaxDirSlots)
        return Msg(err_).s("directory is full (").u(kMaxDirSlots).s(" entries)").ret(-kENOSPC);
    if (add > free_count_) return Msg(err_).s("no space left on the volume").ret(-kENOSPC);
    uint32_t last = dir;
    for (;;) {
        uint32_t nx;
        if (int r = fat_next(last, &nx)) return r;
        if (!nx) break;
        last = nx;
    }
    for (uint32_t k = 0; k < add; k++) {
        const uint32_t c = alloc_cluster();
        if (!c) return Msg(err_).s("no space left on the volume").ret(-kENOSPC);
        if (int r = zero_cluster(c)) {  // zeros on disk before the FAT links the cluster
            free_count_++;
            return r;
        }
        fat_set(c, kEoc);
        fat_set(last, uint16_t(c));
        last = c;
    }
    return flush_fat(true);
}

// Writes a new entry for name16_ into `dir`: raw is the short entry's template (attributes,
// cluster, size, times); the name is filled in. old: an entry of the same directory being
// renamed: its slots may be reused in place, or deleted in the same sector write; *old_gone
// says whether that happened.
int Volume::add_entry(uint32_t dir, uint8_t *raw, const Ent *old, Ent *out, bool *old_gone) {
    *old_gone = false;
    const uint16_t *nm = name16_;
    const uint32_t len = name_len_;

    // The basis name (Microsoft's algorithm): upper case, spaces and leading dots dropped,
    // primary part up to the first dot (8 chars), extension after the last dot (3 chars).
    char base[8], ext[3];
    uint32_t bl = 0, el = 0;
    bool lossy = false;
    uint32_t lead = 0;
    while (lead < len && (nm[lead] == '.' || nm[lead] == ' ')) lead++;
    uint32_t lastdot = len;
    for (uint32_t i = lead; i < len; i++)
        if (nm[i] == '.') lastdot = i;
    auto map = [&](uint16_t u) -> char {
        if (u >= 'a' && u <= 'z') return char(u - 32);
        if (u < 0x80 && short_char(u)) return char(u);
        lossy = true;
        return '_';
    };
    for (uint32_t i = lead; i < len && nm[i] != '.'; i++) {
        if (nm[i] == ' ') continue;
        if (bl < 8) base[bl++] = map(nm[i]);
    }
    if (lastdot < len)
        for (uint32_t i = lastdot + 1; i < len; i++) {
            if (nm[i] == ' ') continue;
            if (el < 3) ext[el++] = map(nm[i]);
        }
    if (bl == 0) {
        base[bl++] = '_';
        lossy = true;
    }
    char plain[11];
    for (uint32_t i = 0; i < 11; i++) plain[i] = ' ';
    for (uint32_t i = 0; i < bl; i++) plain[i] = base[i];
    for (uint32_t i = 0; i < el; i++) plain[8 + i] = ext[i];
    // No tail if the basis spells the whole name (up to case); no long name if it spells it
    // exactly (an upper-case 8.3 name).
    uint16_t disp[13];
    const uint32_t dl = short_to16(reinterpret_cast<const uint8_t *>(plain), disp, false);
    const bool no_tail = !lossy && eq_fold(disp, dl, nm, len);
    const bool need_lfn = !(no_tail && eq_exact(disp, dl, nm, len));
    const uint32_t lfn_slots = need_lfn ? (len + 12) / 13 : 0;
    const uint32_t k = lfn_slots + 1;

    // One scan: tails in use, a plain-name collision, a free run of k slots.
    for (uint32_t i = 0; i < 1024; i++) tails_[i] = 0;
    bool plain_taken = false;
    uint32_t found_at = kNoIndex, run_start = 0, run_len = 0;
    Scan s;
    if (int r = scan_open(s, dir, true)) return r;
    for (;;) {
        const uint8_t *p;
        int kind;
        const int r = scan_next(s, &p, &kind);
        if (r < 0) return r;
        if (r == 0) break;
        const uint32_t idx = s.index - 1;
        if (kind == kSlotEnd) {  // this slot and all after it are free
            const uint32_t start = run_len ? run_start : idx;
            run_start = start;
            run_len = s.limit - start;
            if (found_at == kNoIndex && run_len >= k) found_at = start;
            break;
        }
        if (kind == kSlotFree) {
            const Node *nd = find_node(s.lba, s.off);
            if (nd && nd->unlinked) {  // an unlinked file that is still open keeps its slot
                run_len = 0;
                continue;
            }
            if (run_len == 0) run_start = idx;
            run_len++;
            if (found_at == kNoIndex && run_len >= k) found_at = run_start;
            continue;
        }
        run_len = 0;
        if (kind != kSlotShort) continue;  // long-name slots; the volume label is no file name
        if (old && old->dir == dir && old->index != kNoIndex && idx >= old->first &&
            idx <= old->index)
            continue;  // the entry being renamed
        if (same_bytes(p, plain, 11)) plain_taken = true;
        // "PREFIX~N" with our extension and our prefix: mark N as used.
        if (!same_bytes(p + 8, plain + 8, 3)) continue;
        int tl = 8;
        while (tl > 0 && p[tl - 1] == ' ') tl--;
        int t = tl - 1;
        while (t > 0 && p[t] >= '0' && p[t] <= '9') t--;
        if (t <= 0 || p[t] != '~' || t == tl - 1 || p[t + 1] == '0') continue;
        uint32_t n = 0, d = 0;
        for (int q = t + 1; q < tl; q++, d++) n = n * 10 + (p[q] - '0');
        const uint32_t pl = bl < 7 - d ? bl : 7 - d;
        if (n >= 65536 || uint32_t(t) != pl || !same_bytes(p, base, pl)) continue;
        tails_[n / 64] |= 1ull << (n % 64);
    }
    if (found_at == kNoIndex && run_len == 0) run_start = s.limit;

    uint8_t name11[11];
    copy_bytes(name11, plain, 11);
    if (!no_tail || plain_taken) {
        if (!need_lfn) return Msg(err_).s("short name exists").ret(-kEEXIST);
        uint32_t n = 1;
        while (n < 65536 && (tails_[n / 64] & (1ull << (n % 64)))) n++;
        if (n >= 65536) return Msg(err_).s("no free short name for this name").ret(-kENOSPC);
        char digits[6];
        uint32_t d = 0;
        for (uint32_t v = n; v; v /= 10) digits[d++] = char('0' + v % 10);
        const uint32_t pl = bl < 7 - d ? bl : 7 - d;
        for (uint32_t i = 0; i < 8; i++) name11[i] = ' ';
        for (uint32_t i = 0; i < pl; i++) name11[i] = uint8_t(base[i]);
        name11[pl] = '~';
        for (uint32_t i = 0; i < d; i++) name11[pl + 1 + i] = uint8_t(digits[d - 1 - i]);
    }

    // Where: in place of the renamed entry when it fits in its run and that run is in one
    // sector (one atomic write), else a free run, else the directory grows.
    uint32_t start = found_at;
    // (Slots i and j of a directory share a sector iff i / 16 == j / 16.)
    if (old && old->dir == dir && old->index != kNoIndex && old->index - old->first + 1 >= k &&
        old->first / 16 == old->index / 16) {
        start = old->index + 1 - k;
    }
    if (start == kNoIndex) {
        const uint32_t have = run_len;  // free slots at the end of the directory
        if (int r = grow_dir(dir, s.limit, k - have)) return r;
        start = run_start;
    }

    // Fill the slots: long-name slots (last part first), then the short entry.
    set_name11(raw, reinterpret_cast<const char *>(name11));
    raw[12] = 0;
    const uint8_t sum = lfn_checksum(raw);
    const bool merge = old && old->dir == dir && old->index != kNoIndex &&
                       old->first / 16 == old->index / 16 && old->index / 16 == start / 16 &&
                       start / 16 == (start + k - 1) / 16;
    uint32_t cur = 0;
    bool loaded = false;
    for (uint32_t j = 0; j < k; j++) {
        const uint32_t idx = start + j;
        if (int r = load_slot_sector(dir, idx, &cur, &loaded)) return r;
        uint8_t *e = sec_ + (idx % 16) * 32;
        if (j + 1 == k) {
            copy_bytes(e, raw, 32);
            out->dir = dir;
            out->index = idx;
            out->first = start;
            out->lba = cur;
            out->off = uint16_t((idx % 16) * 32);
            out->lfn_len = uint16_t(need_lfn ? len : 0);
            copy_bytes(out->raw, raw, 32);
            break;
        }
        const uint32_t ord = lfn_slots - j;  // ordinal of this slot
        zero_bytes(e, 32);
        e[0] = uint8_t(ord | (j == 0 ? 0x40 : 0));
        e[11] = kAttrLfn;
        e[13] = sum;
        for (uint32_t q = 0; q < 13; q++) {
            const uint32_t ci = (ord - 1) * 13 + q;
            const uint16_t u = ci < len ? nm[ci] : ci == len ? 0 : 0xFFFF;
            wr16(e + kLfnPos[q], u);
        }
    }
    if (merge) {  // delete the old slots in the same write
        for (uint32_t idx = old->first; idx <= old->index; idx++)
            if (idx < start || idx >= start + k) sec_[(idx % 16) * 32] = 0xE5;
        *old_gone = true;
    }
    return store_sector();
}

// Marks an entry and its long-name slots deleted: the short entry's sector first.
int Volume::delete_entry(const Ent &e) {
    if (e.index == kNoIndex) return Msg(err_).s("internal: entry has no slot").ret(-kEINVAL);
    if (int r = load_sector(e.lba)) return r;
    for (uint32_t idx = e.first; idx <= e.index; idx++)
        if (idx / 16 == e.index / 16) sec_[(idx % 16) * 32] = 0xE5;
    if (int r = store_sector()) return r;
    uint32_t cur = 0;
    bool loaded = false;
    for (uint32_t idx = e.first; idx < e.index; idx++) {
        if (idx / 16 == e.index / 16) continue;
        if (int r = load_slot_sector(e.dir, idx, &cur, &loaded)) return r;
        sec_[(idx % 16) * 32] = 0xE5;
    }
    return loaded ? store_sector() : 0;
}

// 1 if the directory holds nothing but "." and "..", 0 if not, -EBUSY if a file unlinked from
// it is still open (its node is keyed by a slot of this directory).
int Volume::dir_empty(uint32_t cluster) {
    Scan s;
    if (int r = scan_open(s, cluster, true)) return r;
    for (;;) {
        const uint8_t *p;
        int kind;
        const int r = scan_next(s, &p, &kind);
        if (r <= 0) return r < 0 ? r : 1;
        if (kind == kSlotEnd) return 1;
        if (kind == kSlotShort && !ent_is_dot(p)) return 0;
        if (kind == kSlotFree && find_node(s.lba, s.off))
            return Msg(err_).s("directory holds a deleted file that is still open").ret(-kEBUSY);
    }
}

// A moved directory's ".." entry follows it to its new parent.
int Volume::set_dotdot(uint32_t cluster, uint32_t parent) {
    if (!valid_cluster(cluster)) return 0;
    if (int r = load_sector(uint32_t(cluster_lba(cluster)))) return r;
    uint8_t *e = sec_ + 32;
    if (!(e[0] == '.' && e[1] == '.' && e[2] == ' ')) return 0;
    wr16(e + 26, uint16_t(parent));
    return store_sector();
}

void Volume::fill_stat(const uint8_t *raw, Stat *out) {
    out->dir = ent_is_dir(raw);
    out->size = out->dir ? 0 : ent_size(raw);
    out->first_cluster = ent_cluster(raw);
    out->fat_time = rd16(raw + 22);
    out->fat_date = rd16(raw + 24);
}

}  // namespace bf::fs
