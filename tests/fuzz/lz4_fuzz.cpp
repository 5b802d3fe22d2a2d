// libFuzzer target: the LZ4 block decoder that mirrors stage 2 (image/lz4_block.cpp) on arbitrary
// bytes. The first 3 bytes choose the destination size (0..16 MiB); the destination is exactly
// that large, so ASan reports any write past it. Invariants: it stops inside both buffers, and
// success means both were used exactly. Then a round trip: the input compressed with liblz4 at a
// level it chooses must decode back to itself.
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <vector>

#include "image/lz4_block.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 3) return 0;
    const size_t cap = (size_t(data[0]) | size_t(data[1]) << 8 | size_t(data[2]) << 16) & 0xFFFFFF;
    const uint8_t *src = data + 3;
    const size_t n = size - 3;
    std::vector<uint8_t> dst(cap);
    const Lz4Result r = lz4_decode(src, n, dst.data(), cap);
    if (r.in_pos > n || r.out_pos > cap) abort();
    if (r.error == Lz4Error::kOk && (r.in_pos != n || r.out_pos != cap)) abort();
    if (r.error != Lz4Error::kOk && !strcmp(lz4_error_text(r.error), "?")) abort();

    const int level = 1 + data[0] % 12;
    std::vector<uint8_t> packed = lz4_compress(src, n, level);
    if (packed.empty()) abort();
    std::vector<uint8_t> back(n);
    const Lz4Result k = lz4_decode(packed.data(), packed.size(), back.data(), n);
    if (k.error != Lz4Error::kOk || (n && memcmp(back.data(), src, n) != 0)) abort();
    return 0;
}
