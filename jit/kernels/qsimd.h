// The few SIMD operations the quantized kernels are written in (qmatvec.cpp, qmatvec_k.cpp),
// each with two implementations of the same contract:
//   - x86 AVX2 + FMA + F16C intrinsics, when the compiler targets them: the JIT's avx2 and avx512
//     bitcode variants are built with -mavx2 -mfma -mf16c (Makefile) and chosen only on a CPU
//     that has all three (jit/engine.cpp), so the JIT still compiles them for the exact CPU
//     (scheduling, shapes bound). The avx512 bitcode is built with AVX512-BW/VL too: 512-bit
//     versions of some operations (BF_QSIMD_AVX512); avx512vnni also with VNNI: vpdpbusd for
//     the 4-product dot products (dot_u8, dot32) instead of maddubs + madd (+ add), vpdpwssd for
//     madd + add (madd_acc; LLVM did not fuse them itself for znver5), the same integers in the
//     same lanes;
//   - portable vector-extension C++ for everything else: the AOT build (baseline x86-64, SSE2)
//     and the base bitcode. LLVM lowers it to whatever the target has.
//   - SSE2 intrinsics (every x86-64 CPU) for the integer products of the AOT build and the base
//     bitcode, where the portable code lowers to long shuffle sequences;
//   - the portable code, for any other target.
// This header is the only place with intrinsics; the kernels are written once against it. Every
// path puts the same integers in the same 32-bit lanes (AVX2's pairing), so the kernels sum the
// same numbers in the same order; only FMA contraction (AVX2 builds) rounds differently.
#pragma once
#include <stdint.h>
#include <string.h>

#include "quant.h"

#if defined(__AVX2__) && defined(__FMA__) && defined(__F16C__)
#define BF_QSIMD_AVX2 1
#define BF_QSIMD_SSE2 0
#include <immintrin.h>
#if defined(__AVX512BW__) && defined(__AVX512VL__)
#define BF_QSIMD_AVX512 1
#endif
#if defined(__AVX512VNNI__) && defined(__AVX512VL__)
#define BF_QSIMD_VNNI 1
#endif
#elif defined(__SSE2__)
#define BF_QSIMD_AVX2 0
#define BF_QSIMD_SSE2 1
#include <emmintrin.h>
#else
#define BF_QSIMD_AVX2 0
#define BF_QSIMD_SSE2 0
#endif
#ifndef BF_QSIMD_AVX512
#define BF_QSIMD_AVX512 0
#endif
#ifndef BF_QSIMD_VNNI
#define BF_QSIMD_VNNI 0
#endif

namespace bf::kern::qsimd {

typedef int8_t i8x32 __attribute__((ext_vector_type(32)));
typedef int8_t i8x16 __attribute__((ext_vector_type(16)));
typedef uint8_t u8x32 __attribute__((ext_vector_type(32)));
typedef uint8_t u8x16 __attribute__((ext_vector_type(16)));
typedef uint8_t u8x64 __attribute__((ext_vector_type(64)));
typedef int8_t i8x64 __attribute__((ext_vector_type(64)));
typedef int16_t i16x16 __attribute__((ext_vector_type(16)));
typedef int16_t i16x32 __attribute__((ext_vector_type(32)));
typedef int32_t i32x8 __attribute__((ext_vector_type(8)));
typedef int32_t i32x16 __attribute__((ext_vector_type(16)));
typedef uint32_t u32x8 __attribute__((ext_vector_type(8)));
typedef uint16_t u16x8 __attribute__((ext_vector_type(8)));
typedef float f32x8 __attribute__((ext_vector_type(8)));
typedef float f32x4 __attribute__((ext_vector_type(4)));

template <typename V>
inline V load(const void *p) {  // unaligned
    V v;
    memcpy(&v, p, sizeof v);
    return v;
}

// One fp16 scale to fp32, exactly (subnormals, inf and NaN included).
inline float h2f(quant::fp16_t h) {
#if BF_QSIMD_AVX2
    return _cvtsh_ss(h);
#else
    return quant::fp16_to_fp32(h);
#endif
}

// 8 fp16 values to fp32, exactly. The portable path: the magnitude's bits shifted into fp32
// position and multiplied by 2^112 rebias the exponent and normalize subnormals in one step;
// inf/NaN (exponent 31) are rebuilt with fp32's all-ones exponent.
inline f32x8 h2f8_vec(u16x8 v) {
#if BF_QSIMD_AVX2
    return __m256(_mm256_cvtph_ps(__m128i(v)));
#else
    const u32x8 h = __builtin_convertvector(v, u32x8);
    const u32x8 mag = (h & 0x7fffu) << 13;
    const u32x8 scaled = __builtin_bit_cast(u32x8, __builtin_bit_cast(f32x8, mag) * 0x1p112f);
    const u32x8 special = __builtin_bit_cast(u32x8, mag >= (0x7c00u << 13));  // all ones: inf/NaN
    const u32x8 bits = ((mag | 0x7f800000u) & special) | (scaled & ~special);
    return __builtin_bit_cast(f32x8, bits | ((h & 0x8000u) << 16));
#endif
}
inline f32x8 h2f8(const quant::fp16_t *p) { return h2f8_vec(load<u16x8>(p)); }

// 8 fp32 values rounded to fp16 (to nearest even) and back to fp32: what storing them as fp16
// keeps. One conversion each way with F16C; elsewhere the scalar conversions.
inline f32x8 round_f16_8(f32x8 v) {
#if BF_QSIMD_AVX2
    return __m256(_mm256_cvtph_ps(_mm256_cvtps_ph(__m256(v), _MM_FROUND_TO_NEAREST_INT)));
#else
    f32x8 r;
    for (int j = 0; j < 8; j++) r[j] = quant::fp16_to_fp32(quant::fp32_to_fp16(v[j]));
    return r;
#endif
}

// Two fp16 values to fp32 in lanes 0 and 1 (2 and 3: 0), exactly: one conversion for both.
inline f32x4 h2f2(quant::fp16_t a, quant::fp16_t b) {
#if BF_QSIMD_AVX2
    return __m128(_mm_cvtph_ps(_mm_cvtsi32_si128(int(uint32_t(a) | uint32_t(b) << 16))));
#else
    return f32x4{h2f(a), h2f(b), 0.0f, 0.0f};
#endif
}

// The fp16 scales `d` of 8 consecutive blocks (18 or 34 bytes apart) to fp32. Gathered into two
// 64-bit integers first: as 8 word inserts into a vector register they took the vector pipes
// that the dot products are bound by (Q4_0's matvec spent ~30% of its time there; in cache
// 12.4 -> 16.3 GB/s with this), the integer units being idle.
// kEvenOdd: blocks 0, 2, 4, 6 in lanes 0-3 and 1, 3, 5, 7 in lanes 4-7 (the order pair_sums leaves).
template <typename Block, bool kEvenOdd = false>
inline f32x8 h2f8_blocks(const Block *b) {
    uint64_t lo = 0, hi = 0;
    for (int j = 0; j < 4; j++) lo |= uint64_t(b[kEvenOdd ? 2 * j : j].d) << (16 * j);
    for (int j = 0; j < 4; j++) hi |= uint64_t(b[kEvenOdd ? 2 * j + 1 : 4 + j].d) << (16 * j);
    typedef uint64_t u64x2 __attribute__((ext_vector_type(2)));
    return h2f8_vec(__builtin_bit_cast(u16x8, u64x2{lo, hi}));
}

#if BF_QSIMD_SSE2
// A 32-byte vector as two SSE registers and back.
struct Halves {
    __m128i lo, hi;
};
template <typename V>
inline Halves halves(V v) {
    static_assert(sizeof(V) == 32);
    Halves h;
    memcpy(&h.lo, &v, 16);
    memcpy(&h.hi, reinterpret_cast<const char *>(&v) + 16, 16);
    return h;
}
template <typename V>
inline V join(__m128i lo, __m128i hi) {
    V v;
    memcpy(&v, &lo, 16);
    memcpy(reinterpret_cast<char *>(&v) + 16, &hi, 16);
    return v;
}
// The even and odd bytes of each 16-bit lane as int16: signed or unsigned.
inline __m128i even_s8(__m128i v) { return _mm_srai_epi16(_mm_slli_epi16(v, 8), 8); }
inline __m128i odd_s8(__m128i v) { return _mm_srai_epi16(v, 8); }
inline __m128i even_u8(__m128i v) { return _mm_and_si128(v, _mm_set1_epi16(0xff)); }
inline __m128i odd_u8(__m128i v) { return _mm_srli_epi16(v, 8); }
#endif

#if !BF_QSIMD_AVX2 && !BF_QSIMD_SSE2
// Lane k = p[2k] + p[2k+1] as the AVX2 instructions pair them, so both paths put the same
// integers in the same lanes: each pair of int16 read as one int32, its halves sign-extended.
inline i32x16 pair_sums32(i16x32 p) {
    const i32x16 w = __builtin_bit_cast(i32x16, p);
    return ((w << 16) >> 16) + (w >> 16);
}
inline i32x8 pair_sums32(i16x16 p) {
    const i32x8 w = __builtin_bit_cast(i32x8, p);
    return ((w << 16) >> 16) + (w >> 16);
}
#endif

// 32 unsigned bytes a (each <= 128) times 32 signed bytes b, products summed in pairs into 16
// int16 lanes: lane k = a[2k]b[2k] + a[2k+1]b[2k+1]. The caller keeps each pair sum within
// int16 (|a| <= 128, |b| <= 127 does).
inline i16x16 mul_pairs(u8x32 a, i8x32 b) {
#if BF_QSIMD_AVX2
    return i16x16(_mm256_maddubs_epi16(__m256i(a), __m256i(b)));
#elif BF_QSIMD_SSE2
    const Halves ha = halves(a), hb = halves(b);
    auto pairs = [](__m128i x, __m128i y) {
        return _mm_add_epi16(_mm_mullo_epi16(even_u8(x), even_s8(y)), _mm_mullo_epi16(odd_u8(x), odd_s8(y)));
    };
    return join<i16x16>(pairs(ha.lo, hb.lo), pairs(ha.hi, hb.hi));
#else
    return __builtin_convertvector(pair_sums32(__builtin_convertvector(a, i16x32) * __builtin_convertvector(b, i16x32)),
                                   i16x16);
#endif
}

// 16 int16 lanes times 16 int16 scales, summed in pairs into 8 int32 lanes: lane k = a[2k]s[2k] +
// a[2k+1]s[2k+1] (so lanes 0-3 come from input lanes 0-7, i.e. elements 0-15 of mul_pairs, and
// lanes 4-7 from elements 16-31).
inline i32x8 madd(i16x16 a, i16x16 s) {
#if BF_QSIMD_AVX2
    return i32x8(_mm256_madd_epi16(__m256i(a), __m256i(s)));
#elif BF_QSIMD_SSE2
    const Halves ha = halves(a), hs = halves(s);
    return join<i32x8>(_mm_madd_epi16(ha.lo, hs.lo), _mm_madd_epi16(ha.hi, hs.hi));
#else
    const i32x8 wa = __builtin_bit_cast(i32x8, a), ws = __builtin_bit_cast(i32x8, s);
    return ((wa << 16) >> 16) * ((ws << 16) >> 16) + (wa >> 16) * (ws >> 16);
#endif
}

// madd by 1: the int16 lanes summed in pairs into 8 int32 lanes.
inline i32x8 sum_pairs(i16x16 a) { return madd(a, i16x16(1)); }

// acc plus 32 unsigned bytes a times 32 signed bytes b, summed in fours: lane k of the result is
// acc[k] + a[4k]b[4k] + ... + a[4k+3]b[4k+3]. mul_pairs' contract (each pair sum within int16)
// makes every path the same integers: VNNI one vpdpbusd, else maddubs + madd + add.
inline i32x8 dot_u8(i32x8 acc, u8x32 a, i8x32 b) {
#if BF_QSIMD_VNNI
    return i32x8(_mm256_dpbusd_epi32(__m256i(acc), __m256i(a), __m256i(b)));
#else
    return acc + sum_pairs(mul_pairs(a, b));
#endif
}

// acc + dot_u8(a0, b0) + dot_u8(a1, b1), where a0[j]b0[j] + a1[j]b1[j] summed in pairs also fits
// int16: without VNNI the two byte multiplies share one widening multiply-add (4 instructions, not
// 6); with VNNI two vpdpbusd.
inline i32x8 dot_u8_2(i32x8 acc, u8x32 a0, i8x32 b0, u8x32 a1, i8x32 b1) {
#if BF_QSIMD_VNNI
    return dot_u8(dot_u8(acc, a0, b0), a1, b1);
#else
    return acc + sum_pairs(mul_pairs(a0, b0) + mul_pairs(a1, b1));
#endif
}

// 8 unsigned bytes (byte c of v = value c) as int16, each spread over 16 lanes: out[c] = v[c].
// AVX2: widened once into both 128-bit halves, then one byte shuffle each; as a GPR move and a
// broadcast each it was twice the instructions, in kernels bound by how many they issue (Q4_K
// matvec in cache 14.6 -> 16.8 GB/s).
inline void spread8(uint64_t v, i16x16 *out) {
#if BF_QSIMD_AVX2
    const __m256i w = _mm256_broadcastsi128_si256(_mm_cvtepu8_epi16(_mm_cvtsi64_si128(int64_t(v))));
    // The shuffle controls spelled out: built from c, they cost instructions in every call where
    // the JIT's -O3 leaves this loop rolled (see spread16_pairs).
    const __m256i ctrl[8] = {_mm256_set1_epi16(0x0100), _mm256_set1_epi16(0x0302), _mm256_set1_epi16(0x0504),
                             _mm256_set1_epi16(0x0706), _mm256_set1_epi16(0x0908), _mm256_set1_epi16(0x0b0a),
                             _mm256_set1_epi16(0x0d0c), _mm256_set1_epi16(0x0f0e)};
    for (int c = 0; c < 8; c++) out[c] = i16x16(_mm256_shuffle_epi8(w, ctrl[c]));
#else
    for (int c = 0; c < 8; c++) out[c] = i16x16(int16_t((v >> (8 * c)) & 0xff));
#endif
}

// 16 signed bytes (the scales of 16-value groups) as int16, in pairs over 16 lanes: out[c] holds
// s[2c] in lanes 0-7 and s[2c+1] in 8-15 (a 32-value chunk's two groups). AVX2: widened once,
// each 128-bit half copied to both halves, then one byte shuffle a chunk (built by element inserts
// and broadcasts, Q6_K's matvec ran at 15.5 GB/s in cache; 21.0 with this).
inline void spread16_pairs(const int8_t *s, i16x16 *out) {
#if BF_QSIMD_AVX2
    const __m256i w = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i *>(s)));
    const __m256i half[2] = {_mm256_permute2x128_si256(w, w, 0x00), _mm256_permute2x128_si256(w, w, 0x11)};
    // Chunk c's control: lanes 0-7 word 2 * (c % 4) (bytes k, k + 1), lanes 8-15 the next word.
    // Spelled out as constants: computed from c, and the loop left rolled by the JIT's -O3 (it
    // was, inside Q6_K's matvec), each control cost 16 byte inserts a chunk: Q6_K's JIT matvec
    // ran at 3 GB/s, 0.63-0.72x of AOT.
#define BF_SPREAD_CTRL(k)                                                                                           \
    _mm256_setr_epi8(k, k + 1, k, k + 1, k, k + 1, k, k + 1, k, k + 1, k, k + 1, k, k + 1, k, k + 1, k + 2, k + 3, k + 2, \
                     k + 3, k + 2, k + 3, k + 2, k + 3, k + 2, k + 3, k + 2, k + 3, k + 2, k + 3, k + 2, k + 3)
    const __m256i ctrl[4] = {BF_SPREAD_CTRL(0), BF_SPREAD_CTRL(4), BF_SPREAD_CTRL(8), BF_SPREAD_CTRL(12)};
#undef BF_SPREAD_CTRL
    for (int c = 0; c < 8; c++) out[c] = i16x16(_mm256_shuffle_epi8(half[c / 4], ctrl[c % 4]));
#else
    for (int c = 0; c < 8; c++) {
        const int16_t s0 = s[2 * c], s1 = s[2 * c + 1];
        out[c] = i16x16{s0, s0, s0, s0, s0, s0, s0, s0, s1, s1, s1, s1, s1, s1, s1, s1};
    }
#endif
}

#if BF_QSIMD_AVX512
// 512 bits: two 32-value chunks side by side, for the kernels whose instruction count, not
// memory, bounds them (Zen 4/5 issue a 512-bit integer operation at the rate of a 256-bit one).
// The same contracts as the 256-bit mul_pairs and madd, lane for lane in each half.
inline i16x32 mul_pairs(u8x64 a, i8x64 b) { return i16x32(_mm512_maddubs_epi16(__m512i(a), __m512i(b))); }
inline i32x16 madd(i16x32 a, i16x32 s) { return i32x16(_mm512_madd_epi16(__m512i(a), __m512i(s))); }
// acc + madd(a, s): with VNNI one vpdpwssd (LLVM left the madd and the add apart for znver5).
inline i32x16 madd_acc(i32x16 acc, i16x32 a, i16x32 s) {
#if BF_QSIMD_VNNI
    return i32x16(_mm512_dpwssd_epi32(__m512i(acc), __m512i(a), __m512i(s)));
#else
    return acc + madd(a, s);
#endif
}

// Two 32-byte vectors as one: a in bytes 0-31, b in 32-63.
template <typename V64, typename V32>
inline V64 join(V32 a, V32 b) {
    return V64(_mm512_inserti64x4(_mm512_castsi256_si512(__m256i(a)), __m256i(b), 1));
}

// spread8 for chunks in pairs: out[j] holds v[kLo[j]] in lanes 0-15 and v[kHi[j]] in 16-31, with
// kLo = {0, 1, 4, 5}, kHi = {2, 3, 6, 7} (the chunks of a 64-byte load of Q4_K nibbles).
inline void spread8_halves(uint64_t v, i16x32 *out) {
    const __m512i w = _mm512_broadcast_i32x4(_mm_cvtepu8_epi16(_mm_cvtsi64_si128(int64_t(v))));
    // Word k of each 128-bit lane: control bytes 2k, 2k + 1; spelled out (see spread16_pairs).
#define BF_HALVES_CTRL(a, b) \
    _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_set1_epi16(0x0101 * (2 * a) + 0x0100)), _mm256_set1_epi16(0x0101 * (2 * b) + 0x0100), 1)
    const __m512i ctrl[4] = {BF_HALVES_CTRL(0, 2), BF_HALVES_CTRL(1, 3), BF_HALVES_CTRL(4, 6), BF_HALVES_CTRL(5, 7)};
#undef BF_HALVES_CTRL
    for (int j = 0; j < 4; j++) out[j] = i16x32(_mm512_shuffle_epi8(w, ctrl[j]));
}

// dot_u8 and dot_u8_2 on 64 bytes (the same contracts, lane for lane).
inline i32x16 dot_u8(i32x16 acc, u8x64 a, i8x64 b) {
#if BF_QSIMD_VNNI
    return i32x16(_mm512_dpbusd_epi32(__m512i(acc), __m512i(a), __m512i(b)));
#else
    return acc + madd(mul_pairs(a, b), i16x32(1));
#endif
}
inline i32x16 dot_u8_2(i32x16 acc, u8x64 a0, i8x64 b0, u8x64 a1, i8x64 b1) {
#if BF_QSIMD_VNNI
    return dot_u8(dot_u8(acc, a0, b0), a1, b1);
#else
    return acc + madd(mul_pairs(a0, b0) + mul_pairs(a1, b1), i16x32(1));
#endif
}

// pair_sums (below) for two 512-bit vectors of 4 blocks each (p[h]: block 4h + k in lanes
// 4k..4k+3): the same 8 totals in the same lanes, in 6 operations instead of 9 on 4 vectors.
// Per 128-bit lane k: blocks k and 4 + k interleaved and summed twice leave block k's total in
// dword 0 and block 4 + k's in dword 1; one permute gathers them.
inline i32x8 pair_sums(i32x16 p0, i32x16 p1) {
    const i32x16 a = __builtin_shufflevector(p0, p1, 0, 16, 1, 17, 4, 20, 5, 21, 8, 24, 9, 25, 12, 28, 13, 29) +
                     __builtin_shufflevector(p0, p1, 2, 18, 3, 19, 6, 22, 7, 23, 10, 26, 11, 27, 14, 30, 15, 31);
    const i32x16 b = a + __builtin_shufflevector(a, a, 2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13);
    return __builtin_shufflevector(b, b, 0, 8, 1, 9, 4, 12, 5, 13);
}

// Each 16-bit word of v shifted right by lo (words 0-15) or hi (words 16-31): a byte field at
// bit lo (hi) of every byte of the low (high) 32 bytes lands at bit 0; the bits above it come
// from the byte's own higher bits or, for the low byte of a word, its neighbour's (callers mask).
inline u8x64 shift_halves_right(u8x64 v, int lo, int hi) {
    const __m512i counts = _mm512_inserti64x4(_mm512_set1_epi16(short(lo)), _mm256_set1_epi16(short(hi)), 1);
    return u8x64(_mm512_srlv_epi16(__m512i(v), counts));
}

// Four int16 scales each over 8 lanes: out holds s[first + k / 8] in lane k (s: 16 int16, the
// scales of 16-value groups; a 64-value chunk pair's four groups).
inline i16x32 spread4_groups(i16x16 s, int first) {
    const __m512i idx = _mm512_add_epi16(_mm512_set_epi16(3, 3, 3, 3, 3, 3, 3, 3, 2, 2, 2, 2, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1,
                                                          1, 1, 0, 0, 0, 0, 0, 0, 0, 0),
                                         _mm512_set1_epi16(short(first)));
    return i16x32(_mm512_permutexvar_epi16(idx, _mm512_castsi256_si512(__m256i(s))));
}

// The 16 int32 lanes folded to 8: lane k + lane k + 8.
inline i32x8 fold(i32x16 v) {
    return __builtin_shufflevector(v, v, 0, 1, 2, 3, 4, 5, 6, 7) + __builtin_shufflevector(v, v, 8, 9, 10, 11, 12, 13, 14, 15);
}
#endif

// The dot product of 32 signed weights and 32 activations in [-127, 127], as 8 int32 partial
// sums: |w| times x carrying w's sign, so every pair sum fits int16 even for w = -128.
inline i32x8 dot32(i8x32 w, i8x32 x) {
#if BF_QSIMD_AVX2
    const __m256i aw = _mm256_sign_epi8(__m256i(w), __m256i(w));
    return dot_u8(i32x8(0), u8x32(aw), i8x32(_mm256_sign_epi8(__m256i(x), __m256i(w))));
#elif BF_QSIMD_SSE2
    // Even bytes against even, odd against odd: lane k gets bytes 4k and 4k+2, then 4k+1 and 4k+3.
    const Halves hw = halves(w), hx = halves(x);
    auto dot = [](__m128i a, __m128i b) {
        return _mm_add_epi32(_mm_madd_epi16(even_s8(a), even_s8(b)), _mm_madd_epi16(odd_s8(a), odd_s8(b)));
    };
    return join<i32x8>(dot(hw.lo, hx.lo), dot(hw.hi, hx.hi));
#else
    const i32x16 p = pair_sums32(__builtin_convertvector(w, i16x32) * __builtin_convertvector(x, i16x32));
    return __builtin_shufflevector(p, p, 0, 2, 4, 6, 8, 10, 12, 14) + __builtin_shufflevector(p, p, 1, 3, 5, 7, 9, 11, 13, 15);
#endif
}

// 16 packed bytes to 32 nibble values: low nibbles first, then high nibbles (Q4_0's order).
inline u8x32 nibbles(const uint8_t *qs) {
    const u8x16 b = load<u8x16>(qs);
    const u8x16 lo = b & 15, hi = b >> 4;
    return __builtin_shufflevector(lo, hi, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20,
                                   21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31);
}

// Bits of a 32-bit mask as 32 bytes of 0 or `value` (byte j: bit j).
inline u8x32 bits_to_bytes(uint32_t m, uint8_t value) {
    const u8x32 spread = __builtin_bit_cast(u8x32, u32x8(m));  // byte 4k + b = byte b of m
    const u8x32 bytes = __builtin_shufflevector(spread, spread, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2,
                                                2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3);
    const u8x32 bit = {1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128,
                       1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128};
    return __builtin_bit_cast(u8x32, (bytes & bit) == bit) & value;
}

inline f32x8 to_f32(i32x8 v) { return __builtin_convertvector(v, f32x8); }

// Four pairs of blocks' partial sums (p[k]: lanes 0-3 block 2k, 4-7 block 2k+1) to one total a
// block, blocks 0, 2, 4, 6 in lanes 0-3 and 1, 3, 5, 7 in lanes 4-7: two rounds of unpack + add
// (single-uop shuffles; vphaddd is 3 uops on Zen 3). Integer, so exact.
inline i32x8 pair_sums(i32x8 p0, i32x8 p1, i32x8 p2, i32x8 p3) {
    const i32x8 t01 = __builtin_shufflevector(p0, p1, 0, 8, 1, 9, 4, 12, 5, 13) +
                      __builtin_shufflevector(p0, p1, 2, 10, 3, 11, 6, 14, 7, 15);
    const i32x8 t23 = __builtin_shufflevector(p2, p3, 0, 8, 1, 9, 4, 12, 5, 13) +
                      __builtin_shufflevector(p2, p3, 2, 10, 3, 11, 6, 14, 7, 15);
    return __builtin_shufflevector(t01, t23, 0, 1, 8, 9, 4, 5, 12, 13) +
           __builtin_shufflevector(t01, t23, 2, 3, 10, 11, 6, 7, 14, 15);
}

inline int hsum_i(i32x8 v) {
    const auto a = __builtin_shufflevector(v, v, 0, 1, 2, 3) + __builtin_shufflevector(v, v, 4, 5, 6, 7);
    return a[0] + a[1] + a[2] + a[3];
}

// Sum of the 8 lanes, as a fixed tree.
inline float hsum(f32x8 v) {
    const auto a = __builtin_shufflevector(v, v, 0, 1, 2, 3) + __builtin_shufflevector(v, v, 4, 5, 6, 7);
    const auto b = __builtin_shufflevector(a, a, 0, 1) + __builtin_shufflevector(a, a, 2, 3);
    return b[0] + b[1];
}

}  // namespace bf::kern::qsimd
