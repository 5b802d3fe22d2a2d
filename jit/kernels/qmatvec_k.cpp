// K-quant weights (Q2_K ... Q6_K) against Q8_K activations, as llama.cpp's CPU backend computes
// them (its reference vec_dot_q*_K_q8_K): per 256-value super-block the integer sums of each
// 16-value group times the group's integer scale, added up as an integer; the mins (Q2_K, Q4_K,
// Q5_K) pair with the activation's 16-value sums (bsums), also as an integer; then
//   sum += (d_w * d_x) * isum - (dmin_w * d_x) * summs   in fp32, super-block by super-block.
// Every type unpacks a super-block to 256 int8 values plus 16 scales and 16 mins (32-value
// sub-blocks give their scale to both of their groups) and shares one loop for the sums.
// Portable, call-free C++ (the JIT compiles it too); correct first, like qmatvec.cpp.
#include "kernels.h"
#include "qmatvec_detail.h"
#include "quant.h"

#include <string.h>

namespace bf::kern {
namespace {

using namespace quant;
using namespace qdetail;

// One weight super-block in integer form: value v is q[v]; group g (values 16g..16g+15) has
// scale sc[g] and min mn[g]; dmin is 0 (and mn all 0) for the types without mins.
struct Unpacked {
    int8_t q[QK_K];
    int sc[QK_K / 16], mn[QK_K / 16];
    float d, dmin;
};

template <typename Block, typename Unpack>
void matvec_k(float *out, const void *xq, const void *w, int n, int d, Unpack unpack) {
    const int nb = n / QK_K;
    const block_q8_K *x = static_cast<const block_q8_K *>(xq);
    const Block *rows = static_cast<const Block *>(w);
    Unpacked u;
    for (int i = 0; i < d; i++) {
        const Block *r = rows + size_t(i) * nb;
        float sum = 0.0f;
        for (int b = 0; b < nb; b++) {
            unpack(r[b], u);
            int isum = 0, summs = 0;
            for (int g = 0; g < QK_K / 16; g++) {
                isum += u.sc[g] * dot_i8<16>(u.q + 16 * g, x[b].qs + 16 * g);
                summs += u.mn[g] * int(x[b].bsums[g]);
            }
            sum += (u.d * x[b].d) * float(isum) - (u.dmin * x[b].d) * float(summs);
        }
        out[i] = sum;
    }
}

// Q2_K and Q3_K keep 2 bits a value the same way: a half of 128 values draws on 32 bytes, taking
// their 2-bit fields (shift 0, 2, 4, 6) in turn, 32 values per field.
void unpack_2bit(const uint8_t *qs, int8_t *q) {
    for (int half = 0; half < 2; half++)
        for (int field = 0; field < 4; field++)
            for (int l = 0; l < 32; l++) q[half * 128 + field * 32 + l] = int8_t((qs[half * 32 + l] >> (2 * field)) & 3);
}

// Q4_K/Q5_K: chunks of 64 values from 32 bytes, low nibbles then high nibbles; sub-block s (32
// values) has a 6-bit scale and min, each shared by its two 16-value groups.
void unpack_4bit_k(const uint8_t *qs, const uint8_t *scales, Unpacked &u) {
    for (int s = 0; s < 8; s++) {
        for (int l = 0; l < 32; l++) u.q[s * 32 + l] = int8_t((qs[(s / 2) * 32 + l] >> (4 * (s % 2))) & 15);
        int sc, m;
        scale_min_k4(s, scales, sc, m);
        u.sc[2 * s] = u.sc[2 * s + 1] = sc;
        u.mn[2 * s] = u.mn[2 * s + 1] = m;
    }
}

}  // namespace

// Q8_K per 256 values: iscale = -127 / m (m the value of largest magnitude, sign kept), q to
// nearest even, d = 1 / iscale in fp32; bsums of each 16 q. An all-zero block is all zero
// (llama.cpp leaves its bsums unset there; with d = 0 they do not matter).
void quantize_q8_k(void *y, const float *x, int n) {
    block_q8_K *out = static_cast<block_q8_K *>(y);
    for (int i = 0; i < n / QK_K; i++, x += QK_K) {
        float max = 0.0f, amax = 0.0f;
        for (int j = 0; j < QK_K; j++) {
            const float a = x[j] < 0 ? -x[j] : x[j];
            if (a > amax) {
                amax = a;
                max = x[j];
            }
        }
        block_q8_K &b = out[i];
        if (amax == 0.0f) {
            memset(&b, 0, sizeof b);
            continue;
        }
        const float iscale = -127.0f / max;
        for (int j = 0; j < QK_K; j++) b.qs[j] = to_q8(round_even(iscale * x[j]));
        for (int g = 0; g < QK_K / 16; g++) {
            int s = 0;
            for (int j = 0; j < 16; j++) s += b.qs[16 * g + j];
            b.bsums[g] = int16_t(s);
        }
        b.d = 1.0f / iscale;
    }
}

void matvec_q2_k(float *out, const void *xq, const void *w, int n, int d) {
    matvec_k<block_q2_K>(out, xq, w, n, d, [](const block_q2_K &b, Unpacked &u) {
        unpack_2bit(b.qs, u.q);
        for (int g = 0; g < 16; g++) {
            u.sc[g] = b.scales[g] & 15;
            u.mn[g] = b.scales[g] >> 4;
        }
        u.d = h2f(b.d);
        u.dmin = h2f(b.dmin);
    });
}

void matvec_q3_k(float *out, const void *xq, const void *w, int n, int d) {
    matvec_k<block_q3_K>(out, xq, w, n, d, [](const block_q3_K &b, Unpacked &u) {
        unpack_2bit(b.qs, u.q);
        // Bit v/32 of hmask byte v%32 set: no -4 offset.
        for (int v = 0; v < QK_K; v++) u.q[v] = int8_t(u.q[v] - (((b.hmask[v % 32] >> (v / 32)) & 1) ? 0 : 4));
        for (int g = 0; g < 16; g++) {
            u.sc[g] = scale_q3_K(b.scales, g);
            u.mn[g] = 0;
        }
        u.d = h2f(b.d);
        u.dmin = 0.0f;
    });
}

void matvec_q4_k(float *out, const void *xq, const void *w, int n, int d) {
    matvec_k<block_q4_K>(out, xq, w, n, d, [](const block_q4_K &b, Unpacked &u) {
        unpack_4bit_k(b.qs, b.scales, u);
        u.d = h2f(b.d);
        u.dmin = h2f(b.dmin);
    });
}

void matvec_q5_k(float *out, const void *xq, const void *w, int n, int d) {
    matvec_k<block_q5_K>(out, xq, w, n, d, [](const block_q5_K &b, Unpacked &u) {
        unpack_4bit_k(b.qs, b.scales, u);
        for (int v = 0; v < QK_K; v++) u.q[v] = int8_t(u.q[v] | (((b.qh[v % 32] >> (v / 32)) & 1) << 4));
        u.d = h2f(b.d);
        u.dmin = h2f(b.dmin);
    });
}

// Q6_K: per half of 128 values, low nibbles from 64 bytes (low nibble for the first 64 values,
// high nibble for the next), high 2 bits from 32 bytes (field w/32); value - 32; int8 scales.
void matvec_q6_k(float *out, const void *xq, const void *w, int n, int d) {
    matvec_k<block_q6_K>(out, xq, w, n, d, [](const block_q6_K &b, Unpacked &u) {
        for (int half = 0; half < 2; half++)
            for (int k = 0; k < 128; k++) {
                const int low = (b.ql[half * 64 + k % 64] >> (4 * (k / 64))) & 15;
                const int high = (b.qh[half * 32 + k % 32] >> (2 * (k / 32))) & 3;
                u.q[half * 128 + k] = int8_t((low | (high << 4)) - 32);
            }
        for (int g = 0; g < 16; g++) {
            u.sc[g] = b.scales[g];
            u.mn[g] = 0;
        }
        u.d = h2f(b.d);
        u.dmin = 0.0f;
    });
}

}  // namespace bf::kern
