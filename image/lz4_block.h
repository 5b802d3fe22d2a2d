// LZ4 block format: the host-side compressor (Debian's liblz4, LZ4HC) and a reference decoder
// that follows boot/stage2/lz4.inc step by step, with the same checks in the same order, so a
// stream this decoder accepts is one stage 2 accepts, and a stream it refuses gets the same
// reason on the boot console. mkimage uses the decoder to verify every image it writes
// (and `mkimage --verify IMG`); tests/unit/image and tests/fuzz/lz4_fuzz.cpp exercise it.
//
// Block format (a sequence of sequences; no frame, no size fields, no checksum of its own):
//   token         high nibble = literal count L, low nibble = match length M - 4
//   [L ext]       if L == 15: bytes added to L while each byte read is 255 (then one more)
//   literals      L bytes copied as they are
//   --- the last sequence stops here: the stream must end exactly after its literals ---
//   offset        2 bytes little-endian, 1..(bytes written so far): the match copies from
//                 out - offset, forwards, so it may overlap its own output (runs)
//   [M ext]       if M - 4 == 15: as for L
// The decoder must fill the destination exactly; it never reads past the input's end nor
// writes past the destination's end, whatever the bytes.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

enum class Lz4Error {
    kOk,
    kTruncated,     // the input ends inside a sequence (token, length, literals or offset)
    kOverflow,      // a literal run or match would write past the end of the destination
    kBadOffset,     // offset 0, or a match starting before the destination's first byte
    kShort,         // the input ended (after a last literal run) before the destination was full
};

struct Lz4Result {
    Lz4Error error;
    size_t in_pos;   // input bytes consumed when it stopped (at the sequence that failed)
    size_t out_pos;  // output bytes written when it stopped
};

// The text stage 2 prints for each error (after "kernel LZ4 data is corrupt: ").
const char *lz4_error_text(Lz4Error e);

// Decodes src[0..n) into dst[0..cap); success only if the input is consumed exactly and exactly
// cap bytes were written.
Lz4Result lz4_decode(const uint8_t *src, size_t n, uint8_t *dst, size_t cap);

// LZ4HC at `level` (1..12; liblz4's default is 9). Empty on failure (input over ~2 GiB).
std::vector<uint8_t> lz4_compress(const uint8_t *src, size_t n, int level = 9);
