// The ACPI MADT ("APIC" table) as a pure function over bytes: no memory map, no hardware, so the
// same code runs in the kernel (acpi.cpp hands it the table it found) and in the hosted unit test
// and fuzzer (tests/unit/kernel_lib/madt_test.cpp, tests/fuzz/madt_fuzz.cpp). Firmware tables are
// input like any other: every length and offset is checked before it is read.
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "bareflow/pool.h"

namespace bf::acpi {

struct Madt {
    uint32_t apic_ids[pool::kMaxThreads];  // usable processors (enabled or online-capable), in
                                           // table order, the first kMaxThreads of them
    int count = 0;                         // entries in apic_ids
    int listed = 0;                        // usable processors in the table (may be > count)
    int disabled = 0;                      // processor entries neither enabled nor online-capable
    uint64_t lapic_addr = 0;               // the table's local APIC address (or its 64-bit override)
    const char *reason = nullptr;          // why parse_madt returned false
};

// The sum of n bytes is 0 mod 256 (every ACPI table and the RSDP).
bool checksum_ok(const uint8_t *p, size_t n);
void reset(Madt *m);  // empty, no reason

// Parses the MADT in p[0, n): the 36-byte table header (signature "APIC", its own length <= n,
// checksum), the local APIC address and flags, then the variable-length entries. Processor
// entries are type 0 (local APIC: 8-bit ID) and type 9 (local x2APIC: 32-bit ID); an ID that
// appears twice counts once; broadcast IDs (0xFF, 0xFFFFFFFF) are skipped. False with a reason
// for a bad table or one without a usable processor.
bool parse_madt(const uint8_t *p, size_t n, Madt *out);

}  // namespace bf::acpi
