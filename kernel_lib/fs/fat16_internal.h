// Shared by the fat16*.cpp files only: on-disk layout, byte helpers, messages.
// Freestanding: no libc, so the helpers are plain loops (with -ffreestanding the compiler does
// not turn them back into memcpy/memset calls).
#pragma once
#include "fat16.h"

namespace bf::fs {

// Linux errno values, negated at the return sites.
constexpr int kEIO = 5, kENOENT = 2, kEBADF = 9, kEBUSY = 16, kEEXIST = 17, kENODEV = 19,
              kENOTDIR = 20, kEISDIR = 21, kEINVAL = 22, kENFILE = 23, kEFBIG = 27,
              kENOSPC = 28, kENAMETOOLONG = 36, kENOTEMPTY = 39;

// Directory entry layout.
constexpr uint8_t kAttrRO = 0x01, kAttrHidden = 0x02, kAttrSystem = 0x04, kAttrLabel = 0x08,
                  kAttrDir = 0x10, kAttrArchive = 0x20, kAttrLfn = 0x0F;
constexpr uint32_t kMaxDirSlots = 65536;      // FAT's limit on entries per directory
constexpr uint16_t kEoc = 0xFFFF;
// Fixed write timestamp (there is no clock dependency here): 2025-01-01 12:00:00.
constexpr uint16_t kStampTime = 12 << 11, kStampDate = ((2025 - 1980) << 9) | (1 << 5) | 1;

// Why a chain is unusable (Node::bad, chain_error()).
enum : uint8_t { kChainOk = 0, kBadLoop, kBadOutside, kBadFree, kBadMarked, kBadShort };

// scan_next() slot kinds.
enum : int { kSlotEnd, kSlotFree, kSlotLfn, kSlotShort, kSlotLabel };

inline uint16_t rd16(const uint8_t *p) { return uint16_t(p[0] | (p[1] << 8)); }
inline uint32_t rd32(const uint8_t *p) {
    return uint32_t(p[0]) | (uint32_t(p[1]) << 8) | (uint32_t(p[2]) << 16) | (uint32_t(p[3]) << 24);
}
inline void wr16(uint8_t *p, uint16_t v) { p[0] = uint8_t(v); p[1] = uint8_t(v >> 8); }
inline void wr32(uint8_t *p, uint32_t v) {
    p[0] = uint8_t(v); p[1] = uint8_t(v >> 8); p[2] = uint8_t(v >> 16); p[3] = uint8_t(v >> 24);
}
inline void copy_bytes(void *d, const void *s, uint32_t n) {
    uint8_t *dd = static_cast<uint8_t *>(d);
    const uint8_t *ss = static_cast<const uint8_t *>(s);
    for (uint32_t i = 0; i < n; i++) dd[i] = ss[i];
}
inline void zero_bytes(void *d, uint32_t n) {
    uint8_t *dd = static_cast<uint8_t *>(d);
    for (uint32_t i = 0; i < n; i++) dd[i] = 0;
}
inline bool same_bytes(const void *a, const void *b, uint32_t n) {
    const uint8_t *x = static_cast<const uint8_t *>(a), *y = static_cast<const uint8_t *>(b);
    for (uint32_t i = 0; i < n; i++)
        if (x[i] != y[i]) return false;
    return true;
}

// Entry fields.
inline uint32_t ent_cluster(const uint8_t *raw) { return rd16(raw + 26); }
inline uint32_t ent_size(const uint8_t *raw) { return rd32(raw + 28); }
inline bool ent_is_dir(const uint8_t *raw) { return (raw[11] & kAttrDir) != 0; }
inline bool ent_is_dot(const uint8_t *raw) {
    return raw[0] == '.' && (raw[1] == ' ' || (raw[1] == '.' && raw[2] == ' '));
}

// A message into Volume::err_: Msg(err_).s("BPB: ").u(n).ret(-kEINVAL).
class Msg {
  public:
    static constexpr uint32_t kCap = 160;
    explicit Msg(char *buf) : b_(buf) { b_[0] = 0; }
    Msg &s(const char *t) {
        while (*t && n_ < kCap - 1) b_[n_++] = *t++;
        b_[n_] = 0;
        return *this;
    }
    Msg &u(uint64_t v) {
        char t[24];
        int k = 0;
        do { t[k++] = char('0' + v % 10); v /= 10; } while (v);
        while (k && n_ < kCap - 1) b_[n_++] = t[--k];
        b_[n_] = 0;
        return *this;
    }
    Msg &hex(uint32_t v) {
        s("0x");
        for (int sh = 12; sh >= 0; sh -= 4) {
            const char d = "0123456789ABCDEF"[(v >> sh) & 15];
            if (n_ < kCap - 1) b_[n_++] = d;
        }
        b_[n_] = 0;
        return *this;
    }
    int ret(int e) const { return e; }

  private:
    char *b_;
    uint32_t n_ = 0;
};

// A directory entry as found by lookup().
struct Volume::Ent {
    uint8_t raw[32];    // the short entry
    uint32_t dir;       // cluster of the directory that holds it (0: root)
    uint32_t index;     // its slot index in that directory (kNoIndex: reached through "." / "..")
    uint32_t first;     // first slot of its run (the LFN slots come before the short entry)
    uint32_t lba;       // where the short entry lives
    uint16_t off;
    uint16_t lfn_len;   // length of its long name (in lfn_ right after the lookup), 0: none
};
constexpr uint32_t kNoIndex = 0xFFFFFFFF;

// A resolved path.
struct Volume::Path {
    uint32_t parent;      // directory that holds (or would hold) the last component
    const char *name;     // last component (not NUL-terminated) ...
    uint32_t len;         // ... 0: the path names a directory without a name ("/", ".", "..")
    uint32_t depth;       // stack_[0..depth] are the directories leading to `parent`
    bool found, root, slash;  // slash: the path ended with '/'
    Ent e;                // the entry when found && !root
};

// A walk over a directory's slots, assembling long names on the way.
struct Volume::Scan {
    uint32_t dir;         // first cluster, 0: root
    uint32_t index;       // next slot
    uint32_t limit;       // slots in the directory (upper bound when the chain was not measured)
    uint32_t ci, cl;      // cluster index / number holding slot `index` (subdirectories)
    uint32_t lba;         // sector of the last slot returned
    uint16_t off;
    uint8_t lfn_sum, lfn_expect;  // checksum / next ordinal expected; lfn_state: 0 none, 1 busy, 2 done
    uint8_t lfn_state;
    uint8_t lfn_slots;
    uint32_t run;         // first slot of the run ending at the last short entry
    uint32_t lfn_len;     // length of the long name in lfn_ (0: no valid long name)
};


namespace detail {
// Names (fat16_names.cpp).
extern const uint8_t kLfnPos[13];  // byte offsets of the 13 UTF-16 characters in a long-name slot
bool eq_fold(const uint16_t *a, uint32_t na, const uint16_t *b, uint32_t nb);  // case-insensitive
bool eq_exact(const uint16_t *a, uint32_t na, const uint16_t *b, uint32_t nb);
uint8_t lfn_checksum(const uint8_t *name11);
bool short_char(uint16_t u);  // allowed as is in an 8.3 name
uint32_t short_to16(const uint8_t *raw, uint16_t *out, bool lower);
int utf16_to_8(const uint16_t *s, uint32_t n, char *out, uint32_t cap);
// Directory entries (fat16_dir.cpp).
void set_name11(uint8_t *raw, const char *name11);
void stamp(uint8_t *raw);
}  // namespace detail

}  // namespace bf::fs
