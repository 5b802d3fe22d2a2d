// Quantized weight formats as GGUF stores them (ggml's block layouts, little endian), fp16/bf16
// conversions, and reference dequantization: plain loops that reproduce gguf-py's numpy
// dequantization (and ggml's C reference) bit for bit. Fast paths are a later step.
//
// Every format is a sequence of fixed-size blocks; a row of n values is n / block_size blocks,
// so n must be a multiple of the block size (the GGUF reader checks that for each tensor).
// Value j of a block, as written by ggml:
//   Q4_0/Q4_1: nibbles qs[j] & 15 (j < 16) and qs[j-16] >> 4; Q5_x adds bit j of qh (u32) as bit 4.
//     q4_0: (q - 8) * d; q4_1: q * d + m; q5_0: (q - 16) * d; q5_1: q * d + m.
//   Q8_0: qs[j] * d.
//   K-quants: 256-value super-blocks, sub-blocks of 16 (Q2_K, Q3_K, Q6_K) or 32 (Q4_K, Q5_K)
//     values with their own scales (and mins); see quant_ref.cpp for each bit layout.
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <string.h>

namespace bf::kern::quant {

// ggml type ids (the GGUF tensor type field).
enum Type : uint32_t {
    F32 = 0, F16 = 1, Q4_0 = 2, Q4_1 = 3, Q5_0 = 6, Q5_1 = 7, Q8_0 = 8,
    Q2_K = 10, Q3_K = 11, Q4_K = 12, Q5_K = 13, Q6_K = 14, BF16 = 30,
    // In memory only, never in a file (the GGUF reader knows ggml's ids alone): Q4_0 rows
    // regrouped at load for the kernels, 8 blocks a group (block_q4_0x8 below).
    Q4_0_X8 = 0x10000 | Q4_0,
};
// The type a file stores for a type in memory (Q4_0 for Q4_0_X8; the others are themselves).
inline uint32_t stored_type(uint32_t t) { return t == Q4_0_X8 ? uint32_t(Q4_0) : t; }

constexpr int QK4_0 = 32, QK4_1 = 32, QK5_0 = 32, QK5_1 = 32, QK8_0 = 32;
constexpr int QK_K = 256;         // values per K-quant super-block
constexpr int K_SCALE_SIZE = 12;  // packed 6-bit scales and mins of Q4_K/Q5_K

using fp16_t = uint16_t;  // IEEE binary16 bits
using bf16_t = uint16_t;  // bfloat16 bits (the top half of an fp32)

struct block_q4_0 {
    fp16_t d;             // scale
    uint8_t qs[QK4_0 / 2];  // nibbles
};
// 8 Q4_0 blocks regrouped (256 values, the same 144 bytes): the 8 scales first, in the order
// 0, 2, 4, 6, 1, 3, 5, 7 (the lanes qsimd::pair_sums leaves the blocks' sums in), then the 8
// blocks' nibbles in block order, so that one 16-byte load converts all scales and one 32-byte
// load takes the nibbles of two blocks. Token generation streamed Q4_0 from DRAM 27-34% faster
// this way (a harness, 768x2048 rows: 12.9 -> 16.3-17.3 GB/s; in cache 17-19 -> 25 GB/s).
struct block_q4_0x8 {
    fp16_t d[8];
    uint8_t qs[8][QK4_0 / 2];
};
constexpr int kQ4_0X8Order[8] = {0, 2, 4, 6, 1, 3, 5, 7};  // block_q4_0x8::d[k] is block kQ4_0X8Order[k]'s

struct block_q4_1 {
    fp16_t d, m;          // scale, minimum
    uint8_t qs[QK4_1 / 2];
};
struct block_q5_0 {
    fp16_t d;
    uint8_t qh[4];        // bit 4 of the 32 values (little-endian u32)
    uint8_t qs[QK5_0 / 2];
};
struct block_q5_1 {
    fp16_t d, m;
    uint8_t qh[4];
    uint8_t qs[QK5_1 / 2];
};
struct block_q8_0 {
    fp16_t d;
    int8_t qs[QK8_0];
};
struct block_q2_K {
    uint8_t scales[QK_K / 16];  // per 16 values: scale (low nibble), min (high nibble)
    uint8_t qs[QK_K / 4];       // 2-bit values
    fp16_t d;                   // super-block scale of the scales
    fp16_t dmin;                // super-block scale of the mins
};
struct block_q3_K {
    uint8_t hmask[QK_K / 8];    // bit 2 of the values (set: no -4 offset)
    uint8_t qs[QK_K / 4];       // low 2 bits
    uint8_t scales[12];         // 16 6-bit scales, offset by 32
    fp16_t d;
};
struct block_q4_K {
    fp16_t d, dmin;
    uint8_t scales[K_SCALE_SIZE];  // 8 6-bit scales and 8 6-bit mins
    uint8_t qs[QK_K / 2];
};
struct block_q5_K {
    fp16_t d, dmin;
    uint8_t scales[K_SCALE_SIZE];
    uint8_t qh[QK_K / 8];          // bit 4
    uint8_t qs[QK_K / 2];          // low 4 bits
};
struct block_q6_K {
    uint8_t ql[QK_K / 2];       // low 4 bits
    uint8_t qh[QK_K / 4];       // high 2 bits
    int8_t scales[QK_K / 16];   // per 16 values
    fp16_t d;
};

// Activation blocks (llama.cpp's "vec_dot types"; never stored in a GGUF file).
// Q8_1, the partner of Q4_1/Q5_1: s = d * sum(qs) lets the weight's min term be one multiply.
constexpr int QK8_1 = 32;
struct block_q8_1 {
    fp16_t d, s;
    int8_t qs[QK8_1];
};
// Q8_K, the partner of the K-quants: a float scale and the sums of each 16 values (the
// sub-block granularity of the weights' mins).
struct block_q8_K {
    float d;
    int8_t qs[QK_K];
    int16_t bsums[QK_K / 16];
};
static_assert(sizeof(block_q8_1) == 36, "block_q8_1");
static_assert(sizeof(block_q8_K) == 292, "block_q8_K");

static_assert(sizeof(block_q4_0) == 18, "block_q4_0");
static_assert(sizeof(block_q4_0x8) == 8 * sizeof(block_q4_0), "block_q4_0x8");
static_assert(sizeof(block_q4_1) == 20, "block_q4_1");
static_assert(sizeof(block_q5_0) == 22, "block_q5_0");
static_assert(sizeof(block_q5_1) == 24, "block_q5_1");
static_assert(sizeof(block_q8_0) == 34, "block_q8_0");
static_assert(sizeof(block_q2_K) == 84, "block_q2_K");
static_assert(sizeof(block_q3_K) == 110, "block_q3_K");
static_assert(sizeof(block_q4_K) == 144, "block_q4_K");
static_assert(sizeof(block_q5_K) == 176, "block_q5_K");
static_assert(sizeof(block_q6_K) == 210, "block_q6_K");
// All members are 1- or 2-byte: blocks may sit at any even address in a mapped file; the
// reference loops read them through memcpy, so any address works.

// Packed K-quant sub-block scales (inline: the reference loops and the kernels share them).
// Q3_K: scale k (0-15) of 16 6-bit scales, offset by 32: low 4 bits in bytes 0-7 (low nibbles
// for scales 0-7, high nibbles for 8-15), high 2 bits in bytes 8-11 (2-bit field k/4 of byte
// 8 + k%4).
inline int scale_q3_K(const uint8_t *scales, int k) {
    const int lo = (scales[k % 8] >> (4 * (k / 8))) & 0xf;
    const int hi = (scales[8 + k % 4] >> (2 * (k / 4))) & 3;
    return (lo | (hi << 4)) - 32;
}
// Q4_K/Q5_K: scale and min of sub-block j (0-7) from the 12 packed bytes (ggml's
// get_scale_min_k4): for j < 4 the low 6 bits of bytes j and j+4; for j >= 4 a nibble of byte
// j+4 plus the top 2 bits of bytes j-4 and j.
inline void scale_min_k4(int j, const uint8_t *q, int &sc, int &m) {
    if (j < 4) {
        sc = q[j] & 63;
        m = q[j + 4] & 63;
    } else {
        sc = (q[j + 4] & 0xf) | ((q[j - 4] >> 6) << 4);
        m = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
    }
}

// Values per block and bytes per block of a type; 0 for types not handled here.
int block_size(uint32_t type);
int block_bytes(uint32_t type);

// fp16: exact widening (subnormals, inf, NaN payloads kept); narrowing rounds to nearest even,
// overflows to inf, keeps NaN a (quiet) NaN. Inline: the kernels convert per value, and the
// kernel files make no library calls (the JIT compiles them too).
inline float fp16_to_fp32(fp16_t h) {
    const uint32_t sign = uint32_t(h & 0x8000) << 16, exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
    uint32_t u;
    if (exp == 0) {  // zero or subnormal: mant * 2^-24, exact in fp32
        const float mag = float(mant) * 0x1p-24f;
        memcpy(&u, &mag, 4);
        u |= sign;
    } else if (exp == 31) {
        u = sign | 0x7f800000u | (mant << 13);  // inf, NaN (payload kept)
    } else {
        u = sign | ((exp + 127 - 15) << 23) | (mant << 13);
    }
    float f;
    memcpy(&f, &u, 4);
    return f;
}

inline fp16_t fp32_to_fp16(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    const uint16_t sign = uint16_t((u >> 16) & 0x8000);
    const uint32_t x = u & 0x7fffffffu;
    if (x > 0x7f800000u) return fp16_t(sign | 0x7e00 | ((x >> 13) & 0x3ff));  // quiet NaN
    if (x >= 0x477ff000u) return fp16_t(sign | 0x7c00);  // >= 65520 rounds to inf (and inf)
    if (x >= 0x38800000u)  // normal in fp16: drop 13 bits, nearest even; a carry bumps the exponent
        return fp16_t(sign | (((x + 0xfffu + ((x >> 13) & 1)) >> 13) - ((127 - 15) << 10)));
    if (x <= 0x33000000u) return sign;  // <= 2^-25: half the smallest subnormal, ties to 0
    // Subnormal in fp16: the value in units of 2^-24, nearest even (may become 0x400, the
    // smallest normal, which is the right encoding).
    const uint32_t e = x >> 23, mant = (x & 0x7fffffu) | 0x800000u, shift = 126 - e;
    uint32_t q = mant >> shift;
    const uint32_t rem = mant & ((1u << shift) - 1), half = 1u << (shift - 1);
    if (rem > half || (rem == half && (q & 1))) q++;
    return fp16_t(sign | q);
}
// bf16: widening is exact; narrowing rounds to nearest even (NaN stays a quiet NaN).
float bf16_to_fp32(bf16_t h);
bf16_t fp32_to_bf16(float f);

// Row dequantization: n values (a multiple of the type's block size) from src into dst.
void dequantize_row_f16(const void *src, float *dst, int64_t n);
void dequantize_row_bf16(const void *src, float *dst, int64_t n);
void dequantize_row_q4_0(const void *src, float *dst, int64_t n);
void dequantize_row_q4_0x8(const void *src, float *dst, int64_t n);
void dequantize_row_q4_1(const void *src, float *dst, int64_t n);
void dequantize_row_q5_0(const void *src, float *dst, int64_t n);
void dequantize_row_q5_1(const void *src, float *dst, int64_t n);
void dequantize_row_q8_0(const void *src, float *dst, int64_t n);
void dequantize_row_q2_K(const void *src, float *dst, int64_t n);
void dequantize_row_q3_K(const void *src, float *dst, int64_t n);
void dequantize_row_q4_K(const void *src, float *dst, int64_t n);
void dequantize_row_q5_K(const void *src, float *dst, int64_t n);
void dequantize_row_q6_K(const void *src, float *dst, int64_t n);

// By type (F32 is a copy). False, with dst untouched, for an unsupported type or an n that is
// negative or not a multiple of the block size.
bool dequantize_row(uint32_t type, const void *src, float *dst, int64_t n);

// Activation quantization to Q8_0 as llama.cpp's x86 (AVX2/AVX-512) path does it, per block of
// 32: amax = max |x|, d = amax / 127 (stored as fp16), q = x * (127 / amax) rounded to nearest
// even (the portable C reference uses roundf, ties away from zero; the x86 builds behind the
// shared reference texts round to even). An all-zero block gets d = 0 and q = 0.
void quantize_row_q8_0(const float *x, block_q8_0 *y, int64_t n);

// Weight quantization as llama-quantize writes files (ggml's quantize_row_q8_0_ref /
// quantize_row_q4_0_ref, byte for byte). Not the activation path above: Q8_0 weights use
// d = amax / 127, id = 1 / d and roundf (ties away from zero); Q4_0 uses d = m / -8 with m the
// signed value of largest magnitude and q = min(15, trunc(x / d + 8.5)). n is a multiple of 32.
void quantize_row_q8_0_weights(const float *x, block_q8_0 *y, int64_t n);
void quantize_row_q4_0_weights(const float *x, block_q4_0 *y, int64_t n);
void quantize_row_q5_0_weights(const float *x, block_q5_0 *y, int64_t n);  // Q4_0's rule with 5 bits
// Q4_K as llama-quantize writes it without an importance matrix (ggml's quantize_row_q4_K_ref):
// a fitted 6-bit scale and min per 32 values, n a multiple of 256.
void quantize_row_q4_K_weights(const float *x, block_q4_K *y, int64_t n);
// By type: F32 (a copy), Q8_0, Q4_0, Q5_0, Q4_K. False, dst untouched, for other types or an n that is
// negative or not a multiple of the block size.
bool quantize_row_weights(uint32_t type, const float *src, void *dst, int64_t n);

// A rounded value as a Q8_0 integer: finite values are within [-127, 127] already; NaN (from a
// NaN or infinite activation) becomes 0 and infinities saturate, instead of an undefined cast.
inline int8_t to_q8(float v) { return v >= -127.0f && v <= 127.0f ? int8_t(v) : v > 0 ? 127 : v < 0 ? -127 : 0; }

// Activation quantization to Q8_1 as llama.cpp's x86 path does it: Q8_0's d and q, plus
// s = d * sum(q) computed with the unrounded fp32 d, stored as fp16.
void quantize_row_q8_1(const float *x, block_q8_1 *y, int64_t n);

// Activation quantization to Q8_K (llama.cpp's quantize_row_q8_K_ref, which its x86 build also
// uses): per 256 values m = the value of largest magnitude (first one on ties, sign kept),
// iscale = -127 / m, q = iscale * x rounded to nearest even, d = 1 / iscale (fp32), bsums the
// sums of each 16 q. An all-zero block is all zero.
void quantize_row_q8_K(const float *x, block_q8_K *y, int64_t n);

// A Q4_0 row of n values (a multiple of 256) regrouped in place as block_q4_0x8 (the same bytes
// per row; the values and scales unchanged). False, row untouched, for other n.
bool regroup_q4_0(void *row, int64_t n);

// Round to nearest, ties to even, whatever the floating-point environment (|v| < 2^22).
float round_nearest_even(float v);

// Dot product of two Q8_0 rows of n values: per block the integer sum of qx * qy, then
// sum += (float)sumi * (dx * dy) in fp32, block by block (ggml's generic C order).
float vec_dot_q8_0_q8_0(const block_q8_0 *x, const block_q8_0 *y, int64_t n);

}  // namespace bf::kern::quant
