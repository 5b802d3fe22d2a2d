// CRC-32 (IEEE 802.3, reflected, as zlib): the checksum stage 2 verifies.
#pragma once
#include <cstddef>
#include <cstdint>

inline uint32_t crc32(const void *data, size_t n, uint32_t crc = 0) {
    static uint32_t table[256];
    if (!table[1])
        for (uint32_t i = 0; i < 256; i++) {
            uint32_t c = i;
            for (int k = 0; k < 8; k++) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            table[i] = c;
        }
    const uint8_t *p = static_cast<const uint8_t *>(data);
    crc = ~crc;
    while (n--) crc = table[(crc ^ *p++) & 0xFF] ^ (crc >> 8);
    return ~crc;
}
