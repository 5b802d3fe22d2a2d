// LZ4 block decoder (reference for boot/stage2/lz4.inc) and the LZ4HC compressor wrapper.
#include "lz4_block.h"

#include <lz4.h>
#include <lz4hc.h>

const char *lz4_error_text(Lz4Error e) {
    switch (e) {
    case Lz4Error::kOk: return "ok";
    case Lz4Error::kTruncated: return "it ends in the middle of a sequence";
    case Lz4Error::kOverflow: return "it writes past the end of the image";
    case Lz4Error::kBadOffset: return "a match points before the start of the image";
    case Lz4Error::kShort: return "it ends before the image is complete";
    }
    return "?";
}

namespace {

// A length continued in 255-steps (LZ4's "linear small-integer code"). Every byte read is
// checked against the input's end; the running total against the room left in the output, so
// it can neither run off the input nor overflow (cap - out < 2^64 - 255).
Lz4Error more_length(const uint8_t *src, size_t n, size_t &in, size_t &len, size_t room) {
    uint8_t b;
    do {
        if (in == n) return Lz4Error::kTruncated;
        b = src[in++];
        len += b;
        if (len > room) return Lz4Error::kOverflow;
    } while (b == 255);
    return Lz4Error::kOk;
}

}  // namespace

Lz4Result lz4_decode(const uint8_t *src, size_t n, uint8_t *dst, size_t cap) {
    size_t in = 0, out = 0;
    auto fail = [&](Lz4Error e) { return Lz4Result{e, in, out}; };
    for (;;) {
        if (in == n) return fail(Lz4Error::kTruncated);
        const uint8_t token = src[in++];
        size_t len = token >> 4;
        if (len == 15) {
            Lz4Error e = more_length(src, n, in, len, cap - out);
            if (e != Lz4Error::kOk) return fail(e);
        }
        if (len > n - in) return fail(Lz4Error::kTruncated);
        if (len > cap - out) return fail(Lz4Error::kOverflow);
        for (size_t i = 0; i < len; i++) dst[out + i] = src[in + i];
        in += len;
        out += len;
        if (in == n) return out == cap ? Lz4Result{Lz4Error::kOk, in, out} : fail(Lz4Error::kShort);
        if (n - in < 2) return fail(Lz4Error::kTruncated);
        const size_t offset = size_t(src[in]) | size_t(src[in + 1]) << 8;
        in += 2;
        if (offset == 0 || offset > out) return fail(Lz4Error::kBadOffset);
        len = token & 15;
        if (len == 15) {
            Lz4Error e = more_length(src, n, in, len, cap - out);
            if (e != Lz4Error::kOk) return fail(e);
        }
        len += 4;
        if (len > cap - out) return fail(Lz4Error::kOverflow);
        for (size_t i = 0; i < len; i++, out++) dst[out] = dst[out - offset];  // forwards: runs
    }
}

std::vector<uint8_t> lz4_compress(const uint8_t *src, size_t n, int level) {
    if (n > size_t(LZ4_MAX_INPUT_SIZE)) return {};
    const int bound = LZ4_compressBound(int(n));
    std::vector<uint8_t> out(static_cast<size_t>(bound));
    int k = LZ4_compress_HC(reinterpret_cast<const char *>(src), reinterpret_cast<char *>(out.data()),
                            int(n), int(out.size()), level);
    if (k <= 0) return {};
    out.resize(size_t(k));
    return out;
}
