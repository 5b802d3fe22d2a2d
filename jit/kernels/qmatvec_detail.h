// Helpers shared by the quantized-weight kernels (qmatvec.cpp, qmatvec_k.cpp); internal, not
// part of the kernel interface. Call-free like every kernel (the JIT compiles them from bitcode).
#pragma once
#include <string.h>

#include "quant.h"

namespace bf::kern::qdetail {

using quant::fp16_t;

// fp16 <-> fp32 without a call (quant.h's functions are the reference; these must agree with
// them, which tests/unit/kernels_test.cpp checks for all 65536 values).
inline float h2f(fp16_t h) {
    const uint32_t sign = uint32_t(h & 0x8000) << 16, exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
    uint32_t u;
    if (exp == 0) {
        float mag = float(mant) * 0x1p-24f;
        memcpy(&u, &mag, 4);
        u |= sign;
    } else if (exp == 31) {
        u = sign | 0x7f800000u | (mant << 13);
    } else {
        u = sign | ((exp + 127 - 15) << 23) | (mant << 13);
    }
    float f;
    memcpy(&f, &u, 4);
    return f;
}

inline fp16_t f2h(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    const uint16_t sign = uint16_t((u >> 16) & 0x8000);
    const uint32_t x = u & 0x7fffffffu;
    if (x > 0x7f800000u) return fp16_t(sign | 0x7e00 | ((x >> 13) & 0x3ff));
    if (x >= 0x477ff000u) return fp16_t(sign | 0x7c00);
    if (x >= 0x38800000u) return fp16_t(sign | (((x + 0xfffu + ((x >> 13) & 1)) >> 13) - ((127 - 15) << 10)));
    if (x <= 0x33000000u) return sign;
    const uint32_t e = x >> 23, mant = (x & 0x7fffffu) | 0x800000u, shift = 126 - e;
    uint32_t q = mant >> shift;
    const uint32_t rem = mant & ((1u << shift) - 1), half = 1u << (shift - 1);
    if (rem > half || (rem == half && (q & 1))) q++;
    return fp16_t(sign | q);
}

// Round to nearest even for |v| < 2^22 by the 1.5 * 2^23 trick (the FPU's default rounding;
// without -ffast-math the compiler may not fold the two operations).
inline float round_even(float v) {
    constexpr float shifter = 12582912.0f;
    return (v + shifter) - shifter;
}

// Sum of 16 or 32 int8 products (a sub-block of weights, already unpacked, against activations).
template <int N>
inline int dot_i8(const int8_t *w, const int8_t *x) {
    int s = 0;
    for (int j = 0; j < N; j++) s += int(w[j]) * int(x[j]);
    return s;
}

}  // namespace bf::kern::qdetail
