// image/lz4_block.cpp: liblz4 (LZ4HC) round trips through the reference decoder that mirrors
// boot/stage2/lz4.inc, and each refusal of a malformed block (with where it stopped).
#include "lz4_block.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <vector>

namespace {

using Bytes = std::vector<uint8_t>;

Lz4Result decode(const Bytes &in, Bytes &out) {
    return lz4_decode(in.data(), in.size(), out.data(), out.size());
}

void round_trip(const Bytes &data, int level) {
    Bytes packed = lz4_compress(data.data(), data.size(), level);
    ASSERT_FALSE(packed.empty());
    Bytes out(data.size(), 0xAA);
    Lz4Result r = decode(packed, out);
    EXPECT_EQ(r.error, Lz4Error::kOk) << lz4_error_text(r.error) << " at " << r.in_pos;
    EXPECT_EQ(r.in_pos, packed.size());
    EXPECT_EQ(r.out_pos, data.size());
    EXPECT_EQ(out, data);
}

// Something like a kernel image: code-ish bytes, zero runs, repeated tables, text.
Bytes kernel_like(size_t n, uint32_t seed) {
    std::mt19937 rng(seed);
    Bytes d;
    while (d.size() < n) {
        switch (rng() % 5) {
        case 0: d.insert(d.end(), rng() % 4096, 0); break;
        case 1: for (int i = rng() % 300; i > 0; i--) d.push_back(uint8_t(rng())); break;
        case 2: {  // a copy from up to 64 KiB back, overlapping itself at times
            if (d.empty()) break;
            size_t off = 1 + rng() % std::min<size_t>(d.size(), 70000), len = 4 + rng() % 200;
            size_t from = d.size() - std::min(off, d.size());
            for (size_t i = 0; i < len; i++) d.push_back(d[from + i]);
            break;
        }
        case 3: for (const char *s = "kernel_lib::storage::init "; *s; s++) d.push_back(uint8_t(*s)); break;
        default: { uint8_t b = uint8_t(rng()); d.insert(d.end(), 1 + rng() % 40, b); }
        }
    }
    d.resize(n);
    return d;
}

TEST(Lz4Block, RoundTripsSmallAndEdgeSizes) {
    for (size_t n : {0, 1, 3, 4, 5, 12, 13, 16, 64, 255, 256, 270, 4096, 65535, 65536, 65537}) {
        SCOPED_TRACE(n);
        round_trip(kernel_like(n, uint32_t(n)), 9);
        round_trip(Bytes(n, 0), 9);  // one long run: offset 1 overlapping copies
    }
}

TEST(Lz4Block, RoundTripsEveryLevel) {
    Bytes d = kernel_like(300000, 7);
    for (int level = 1; level <= 12; level++) {
        SCOPED_TRACE(level);
        round_trip(d, level);
    }
}

TEST(Lz4Block, RoundTripsIncompressibleAndLongLiteralRuns) {
    std::mt19937 rng(1);
    Bytes d(200000);
    for (auto &b : d) b = uint8_t(rng());
    round_trip(d, 9);  // literal lengths far past 15 + 255
}

TEST(Lz4Block, RoundTripsShortPeriodRuns) {
    for (int period = 1; period <= 9; period++) {  // offsets 1..3 go byte by byte in stage 2
        Bytes d;
        for (int i = 0; i < 5000; i++) d.push_back(uint8_t(i % period * 37));
        SCOPED_TRACE(period);
        round_trip(d, 9);
    }
}

TEST(Lz4Block, HandMadeBlockWithOverlappingMatch) {
    // "ab" then a match of 6 at offset 2 -> "abababab", then the last literals "xyz12".
    Bytes in = {0x22, 'a', 'b', 2, 0, 0x50, 'x', 'y', 'z', '1', '2'};
    Bytes out(13);
    Lz4Result r = decode(in, out);
    ASSERT_EQ(r.error, Lz4Error::kOk);
    EXPECT_EQ(std::string(out.begin(), out.end()), "ababababxyz12");
}

TEST(Lz4Block, ExtendedLengths) {
    // 15 + 255 + 0 = 270 literals, then a match of 15 + 4 + 1 = 20 at offset 1, then 5 literals.
    Bytes in = {0xFF, 255, 0};
    for (int i = 0; i < 270; i++) in.push_back(uint8_t('A' + i % 26));
    in.insert(in.end(), {1, 0, 1, 0x50, 'v', 'w', 'x', 'y', 'z'});
    Bytes out(270 + 20 + 5);
    Lz4Result r = decode(in, out);
    ASSERT_EQ(r.error, Lz4Error::kOk) << lz4_error_text(r.error);
    EXPECT_EQ(out[270 + 19], out[269]);
    EXPECT_EQ(out.back(), 'z');
}

struct Bad {
    const char *name;
    Bytes in;
    size_t cap;
    Lz4Error error;
    size_t in_pos, out_pos;
};

TEST(Lz4Block, RefusesMalformedBlocks) {
    const Bad cases[] = {
        {"empty input", {}, 4, Lz4Error::kTruncated, 0, 0},
        {"literals past the input", {0x30, 'a', 'b'}, 16, Lz4Error::kTruncated, 1, 0},
        {"literal length extension cut", {0xF0, 255}, 1000, Lz4Error::kTruncated, 2, 0},
        {"offset cut", {0x10, 'a', 1}, 16, Lz4Error::kTruncated, 2, 1},
        {"match length extension cut", {0x1F, 'a', 1, 0}, 64, Lz4Error::kTruncated, 4, 1},
        {"literals past the image", {0x50, 'a', 'b', 'c', 'd', 'e'}, 4, Lz4Error::kOverflow, 1, 0},
        {"literal extension past the image", {0xF0, 255, 255, 0}, 300, Lz4Error::kOverflow, 3, 0},
        {"match past the image", {0x1F, 'a', 1, 0, 10, 0x00}, 20, Lz4Error::kOverflow, 5, 1},
        {"match past the image, short", {0x11, 'a', 1, 0, 0x00}, 5, Lz4Error::kOverflow, 4, 1},
        {"offset 0", {0x10, 'a', 0, 0, 0x10, 'b'}, 16, Lz4Error::kBadOffset, 4, 1},
        {"offset before the image", {0x20, 'a', 'b', 3, 0, 0x10, 'c'}, 16, Lz4Error::kBadOffset, 5, 2},
        {"max offset before the image", {0x10, 'a', 0xFF, 0xFF}, 1 << 20, Lz4Error::kBadOffset, 4, 1},
        {"ends before the image is full", {0x20, 'a', 'b'}, 3, Lz4Error::kShort, 3, 2},
        {"ends with a match", {0x10, 'a', 1, 0}, 5, Lz4Error::kTruncated, 4, 5},
        {"bytes after the image is full", {0x10, 'a', 1, 0, 0x00, 0x00}, 5, Lz4Error::kTruncated, 5, 5},
    };
    for (const Bad &c : cases) {
        SCOPED_TRACE(c.name);
        Bytes out(c.cap, 0xEE);
        Lz4Result r = decode(c.in, out);
        EXPECT_EQ(int(r.error), int(c.error)) << lz4_error_text(r.error);
        EXPECT_EQ(r.in_pos, c.in_pos);
        EXPECT_EQ(r.out_pos, c.out_pos);
    }
}

TEST(Lz4Block, EveryTruncationOfARealBlockIsRefused) {
    Bytes d = kernel_like(20000, 3);
    Bytes packed = lz4_compress(d.data(), d.size());
    Bytes out(d.size());
    for (size_t n = 0; n < packed.size(); n++) {
        Lz4Result r = lz4_decode(packed.data(), n, out.data(), out.size());
        ASSERT_NE(r.error, Lz4Error::kOk) << "prefix " << n;
        ASSERT_LE(r.in_pos, n);
        ASSERT_LE(r.out_pos, out.size());
    }
}

TEST(Lz4Block, NeverWritesPastTheDestination) {
    // Flip bytes of a real block at random; whatever happens, nothing beyond cap is touched.
    Bytes d = kernel_like(50000, 5);
    Bytes packed = lz4_compress(d.data(), d.size());
    std::mt19937 rng(9);
    for (int i = 0; i < 2000; i++) {
        Bytes bad = packed;
        for (int k = 0; k < 3; k++) bad[rng() % bad.size()] ^= uint8_t(1 + rng() % 255);
        Bytes out(d.size() + 64, 0x5A);
        Lz4Result r = lz4_decode(bad.data(), bad.size(), out.data(), d.size());
        ASSERT_LE(r.out_pos, d.size());
        for (size_t k = d.size(); k < out.size(); k++) ASSERT_EQ(out[k], 0x5A);
    }
}

}  // namespace
