// MADT parser (madt.h). Freestanding and allocation-free: it runs in the kernel before glibc and
// in the hosted tests, which feed it truncated and hostile tables.
#include "madt.h"

namespace bf::acpi {

namespace {

constexpr size_t kHeader = 36;        // the standard ACPI table header
constexpr size_t kEntries = 44;       // + local APIC address (4) + flags (4)
constexpr uint32_t kEnabled = 1, kOnlineCapable = 2;

uint32_t le32(const uint8_t *p) {
    return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}
uint64_t le64(const uint8_t *p) { return uint64_t(le32(p)) | uint64_t(le32(p + 4)) << 32; }

void add(Madt *m, uint32_t id, uint32_t flags) {
    if (!(flags & (kEnabled | kOnlineCapable))) {
        m->disabled++;
        return;
    }
    // Duplicates: firmware may list a CPU as both a local APIC and a local x2APIC entry.
    for (int i = 0; i < m->count; i++)
        if (m->apic_ids[i] == id) return;
    m->listed++;
    if (m->count < pool::kMaxThreads) m->apic_ids[m->count++] = id;
}

bool fail(Madt *m, const char *why) {
    m->count = 0;
    m->reason = why;
    return false;
}

}  // namespace

bool checksum_ok(const uint8_t *p, size_t n) {
    uint8_t sum = 0;
    for (size_t i = 0; i < n; i++) sum = uint8_t(sum + p[i]);
    return sum == 0;
}

void reset(Madt *m) {  // field by field: `*m = Madt{}` would be a memset call (freestanding)
    m->count = m->listed = m->disabled = 0;
    m->lapic_addr = 0;
    m->reason = nullptr;
}

bool parse_madt(const uint8_t *p, size_t n, Madt *m) {
    reset(m);
    if (!p || n < kHeader) return fail(m, "MADT shorter than an ACPI table header");
    if (p[0] != 'A' || p[1] != 'P' || p[2] != 'I' || p[3] != 'C')
        return fail(m, "MADT signature is not APIC");
    size_t len = le32(p + 4);
    if (len > n) return fail(m, "MADT length runs past the table");
    if (len < kEntries) return fail(m, "MADT length too small for its fixed fields");
    if (!checksum_ok(p, len)) return fail(m, "MADT checksum bad");
    m->lapic_addr = le32(p + kHeader);
    // Bounded by len, not n: bytes after the table are not the table's. Each entry is at least
    // its 2-byte type/length header; a length below that, or running past the end, stops the
    // walk as a bad table (continuing would read garbage as entries).
    for (size_t off = kEntries; off < len;) {
        if (len - off < 2) return fail(m, "MADT entry header runs past the table");
        uint8_t type = p[off], elen = p[off + 1];
        if (elen < 2) return fail(m, "MADT entry with length < 2");
        if (elen > len - off) return fail(m, "MADT entry runs past the table");
        const uint8_t *e = p + off;
        switch (type) {
        case 0:  // processor local APIC: ACPI id, APIC id, flags
            if (elen < 8) return fail(m, "MADT local APIC entry shorter than 8 bytes");
            if (e[3] != 0xFF) add(m, e[3], le32(e + 4));
            break;
        case 5:  // local APIC address override (64-bit)
            if (elen < 12) return fail(m, "MADT address override entry shorter than 12 bytes");
            m->lapic_addr = le64(e + 4);
            break;
        case 9:  // processor local x2APIC: reserved, x2APIC id, flags, ACPI uid
            if (elen < 16) return fail(m, "MADT local x2APIC entry shorter than 16 bytes");
            if (le32(e + 4) != 0xFFFFFFFFu) add(m, le32(e + 4), le32(e + 8));
            break;
        default: break;  // I/O APICs, overrides, NMI sources: not needed to start processors
        }
        off += elen;
    }
    if (m->count == 0) return fail(m, "MADT lists no enabled processor");
    return true;
}

}  // namespace bf::acpi
