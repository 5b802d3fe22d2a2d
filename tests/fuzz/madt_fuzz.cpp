// libFuzzer target: the ACPI MADT parser (kernel_lib/smp/madt.cpp) on arbitrary bytes, as the
// firmware could hand them over. The parser must never read outside the buffer (ASan), must
// return a bounded, duplicate-free list of usable processors on success and a reason on failure,
// and must agree with itself when the same table sits inside a longer buffer.
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <vector>

#include "kernel_lib/smp/madt.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    // An exact-size copy: ASan then catches a read one byte past the end.
    std::vector<uint8_t> buf(data, data + size);
    bf::acpi::Madt m;
    bool ok = bf::acpi::parse_madt(buf.empty() ? nullptr : buf.data(), buf.size(), &m);
    if (ok) {
        if (m.count < 1 || m.count > bf::pool::kMaxThreads || m.listed < m.count || m.reason) abort();
        for (int i = 0; i < m.count; i++)
            for (int j = i + 1; j < m.count; j++)
                if (m.apic_ids[i] == m.apic_ids[j]) abort();
    } else {
        if (!m.reason || m.count != 0) abort();
    }
    // Bytes after the table are not part of it: the result must not change.
    buf.resize(size + 64, 0xA5);
    bf::acpi::Madt m2;
    bool ok2 = bf::acpi::parse_madt(buf.data(), buf.size(), &m2);
    if (ok && (!ok2 || m2.count != m.count || m2.listed != m.listed ||
               memcmp(m.apic_ids, m2.apic_ids, sizeof(uint32_t) * size_t(m.count)) != 0))
        abort();
    return 0;
}
