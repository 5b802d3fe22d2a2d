// RSDP -> RSDT/XSDT -> "APIC" (madt.h parses it). Every table is checked before use: mapped in
// the kernel's page tables (paging::accessible: tables outside RAM and the first 4 GiB are not
// identity-mapped), its length sane, its checksum right. A bad table means one CPU, not a crash.
#include "acpi.h"

#include "../console/console.h"
#include "../mm/paging.h"

namespace bf::acpi {

namespace {

constexpr uint32_t kMaxTable = 1u << 20;  // no real RSDT/XSDT/MADT comes near 1 MiB

bool mapped(uint64_t a, uint64_t n) {
    if (a == 0 || a + n < a) return false;
    for (uint64_t p = a & ~0xFFFull; p < a + n; p += 4096)
        if (!paging::accessible(p, false)) return false;
    return true;
}

const uint8_t *at(uint64_t a) { return reinterpret_cast<const uint8_t *>(a); }

uint32_t le32(const uint8_t *p) {
    return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}
uint64_t le64(const uint8_t *p) { return uint64_t(le32(p)) | uint64_t(le32(p + 4)) << 32; }

// "RSD PTR " on a 16-byte boundary with a good ACPI 1.0 checksum over 20 bytes, and for
// revision >= 2 a good extended checksum over its own length (36 bytes at least).
bool is_rsdp(uint64_t a) {
    const uint8_t *p = at(a);
    static const char sig[] = "RSD PTR ";
    for (int i = 0; i < 8; i++)
        if (p[i] != uint8_t(sig[i])) return false;
    if (!checksum_ok(p, 20)) return false;
    if (p[15] >= 2) {
        uint32_t len = le32(p + 20);
        if (len < 36 || len > 4096 || !mapped(a, len) || !checksum_ok(p, len)) return false;
    }
    return true;
}

uint64_t scan(uint64_t lo, uint64_t hi) {
    for (uint64_t a = lo; a + 36 <= hi; a += 16)
        if (mapped(a, 36) && is_rsdp(a)) return a;
    return 0;
}

// The EBDA segment from the BIOS data area (word at 0x40E). Page 0 is unmapped so that null
// pointers fault: map it read-only for this one read.
uint64_t ebda() {
    if (!paging::map(0, 0, paging::kRead)) return 0;
    uint16_t seg = *reinterpret_cast<const volatile uint16_t *>(0x40E);
    paging::unmap(0);
    uint64_t a = uint64_t(seg) << 4;
    return (a >= 0x80000 && a < 0xA0000) ? a : 0;  // where an EBDA can be; else garbage
}

// A table at a, its signature sig, its length within limits, mapped, checksummed.
bool table_ok(uint64_t a, const char *sig, const char **why, const char *bad_checksum) {
    if (!mapped(a, 36)) {
        *why = "an ACPI table is outside mapped memory";
        return false;
    }
    const uint8_t *p = at(a);
    for (int i = 0; i < 4; i++)
        if (p[i] != uint8_t(sig[i])) {
            *why = "ACPI root table has the wrong signature";
            return false;
        }
    uint32_t len = le32(p + 4);
    if (len < 36 || len > kMaxTable || !mapped(a, len)) {
        *why = "ACPI table length is bad or runs into unmapped memory";
        return false;
    }
    if (!checksum_ok(p, len)) {
        *why = bad_checksum;
        return false;
    }
    return true;
}

}  // namespace

bool find_madt(Madt *out) {
    reset(out);
    uint64_t rsdp = 0, e = ebda();
    if (e) rsdp = scan(e, e + 1024);
    if (!rsdp) rsdp = scan(0xE0000, 0x100000);
    if (!rsdp) {
        out->reason = "no ACPI RSDP found";
        return false;
    }
    const uint8_t *r = at(rsdp);
    // ACPI 2+: the XSDT (64-bit entries) when present, else the RSDT (32-bit entries).
    bool x = r[15] >= 2 && le64(r + 24) != 0;
    uint64_t root = x ? le64(r + 24) : le32(r + 16);
    const char *why = nullptr;
    if (!table_ok(root, x ? "XSDT" : "RSDT", &why, x ? "XSDT checksum bad" : "RSDT checksum bad")) {
        out->reason = why;
        return false;
    }
    const uint8_t *t = at(root);
    uint32_t n = (le32(t + 4) - 36) / (x ? 8 : 4);
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *ent = t + 36 + i * (x ? 8 : 4);
        uint64_t a = x ? le64(ent) : le32(ent);
        if (!mapped(a, 36)) continue;  // a table we cannot read is not the MADT we look for
        const uint8_t *h = at(a);
        if (h[0] != 'A' || h[1] != 'P' || h[2] != 'I' || h[3] != 'C') continue;
        uint32_t len = le32(h + 4);
        if (len > kMaxTable || !mapped(a, len)) {
            out->reason = "MADT length is bad or runs into unmapped memory";
            return false;
        }
        kdetailf("acpi: RSDP at 0x%lx (revision %u), %s at 0x%lx, MADT at 0x%lx (%u bytes)\n",
                 (unsigned long)rsdp, r[15], x ? "XSDT" : "RSDT", (unsigned long)root,
                 (unsigned long)a, len);
        return parse_madt(h, len, out);
    }
    out->reason = x ? "no MADT (\"APIC\") in the XSDT" : "no MADT (\"APIC\") in the RSDT";
    return false;
}

}  // namespace bf::acpi
