// check_weights (weights_check.h).
#include "weights_check.h"

#include <stddef.h>
#include <string.h>

#include "fmt.h"
#include "jit/kernels/quant.h"

namespace bf::llm {
namespace {

namespace q = bf::kern::quant;

// The first value whose magnitude bits exceed `limit`, or -1. Runs in chunks that only OR
// together "above the limit" flags (the magnitude bits as a non-negative signed integer, so even
// SSE2's signed compares vectorize it: ~memory speed); only a failing chunk is searched value by
// value.
template <typename Bits, typename Signed>
int64_t first_above(const Bits *v, uint64_t n, Bits abs_mask, Bits limit) {
    constexpr uint64_t kChunk = 4096;
    const Signed lim = Signed(limit);
    for (uint64_t i = 0; i < n; i += kChunk) {
        const uint64_t e = n - i < kChunk ? n : i + kChunk;
        Signed bad = 0;
        for (uint64_t j = i; j < e; j++) bad |= Signed(Signed(v[j] & abs_mask) > lim);
        if (bad)
            for (uint64_t j = i; j < e; j++)
                if (Signed(v[j] & abs_mask) > lim) return int64_t(j);
    }
    return -1;
}

bool half_finite(uint16_t h) { return (h & 0x7c00) != 0x7c00; }

const char *half_kind(uint16_t h) { return (h & 0x3ff) ? "nan" : "inf"; }

// Block formats: bytes per block, values per block, the byte offsets of their fp16 scales.
struct BlockFormat {
    uint32_t type;
    size_t bytes, values;
    int n_scales;
    size_t off[2];
    const char *names[2];
};

const BlockFormat kBlocks[] = {
    {q::Q4_0, sizeof(q::block_q4_0), q::QK4_0, 1, {offsetof(q::block_q4_0, d)}, {"d"}},
    {q::Q4_1, sizeof(q::block_q4_1), q::QK4_1, 2, {offsetof(q::block_q4_1, d), offsetof(q::block_q4_1, m)}, {"d", "m"}},
    {q::Q5_0, sizeof(q::block_q5_0), q::QK5_0, 1, {offsetof(q::block_q5_0, d)}, {"d"}},
    {q::Q5_1, sizeof(q::block_q5_1), q::QK5_1, 2, {offsetof(q::block_q5_1, d), offsetof(q::block_q5_1, m)}, {"d", "m"}},
    {q::Q8_0, sizeof(q::block_q8_0), q::QK8_0, 1, {offsetof(q::block_q8_0, d)}, {"d"}},
    {q::Q2_K, sizeof(q::block_q2_K), q::QK_K, 2, {offsetof(q::block_q2_K, d), offsetof(q::block_q2_K, dmin)}, {"d", "dmin"}},
    {q::Q3_K, sizeof(q::block_q3_K), q::QK_K, 1, {offsetof(q::block_q3_K, d)}, {"d"}},
    {q::Q4_K, sizeof(q::block_q4_K), q::QK_K, 2, {offsetof(q::block_q4_K, d), offsetof(q::block_q4_K, dmin)}, {"d", "dmin"}},
    {q::Q5_K, sizeof(q::block_q5_K), q::QK_K, 2, {offsetof(q::block_q5_K, d), offsetof(q::block_q5_K, dmin)}, {"d", "dmin"}},
    {q::Q6_K, sizeof(q::block_q6_K), q::QK_K, 1, {offsetof(q::block_q6_K, d)}, {"d"}},
};

}  // namespace

bool check_weights(const char *name, uint32_t type, const void *data, uint64_t n, std::string &err) {
    if (type == q::F32) {
        uint32_t limit;
        memcpy(&limit, &kMaxAbsWeight, 4);
        const int64_t i = first_above<uint32_t, int32_t>(static_cast<const uint32_t *>(data), n, 0x7fffffffu, limit);
        if (i < 0) return true;
        float x;
        memcpy(&x, static_cast<const uint32_t *>(data) + i, 4);
        err = fmt("model: tensor %s: value %lld is %g (non-finite or absurd weights: a corrupt or mis-converted file)",
                  name, static_cast<long long>(i), double(x));
        return false;
    }
    if (type == q::F16 || type == q::BF16) {  // fp16 has no finite value above 65504; bf16 does
        uint16_t limit = 0x7bff;              // the largest finite fp16
        if (type == q::BF16) {
            uint32_t f;
            memcpy(&f, &kMaxAbsWeight, 4);
            limit = uint16_t(f >> 16);
        }
        const int64_t i = first_above<uint16_t, int16_t>(static_cast<const uint16_t *>(data), n, uint16_t(0x7fff), limit);
        if (i < 0) return true;
        err = fmt("model: tensor %s: value %lld is %s (0x%04x; non-finite or absurd weights: a corrupt file)", name,
                  static_cast<long long>(i), type == q::F16 ? half_kind(static_cast<const uint16_t *>(data)[i]) : "above 1e30",
                  static_cast<const uint16_t *>(data)[i]);
        return false;
    }
    for (const BlockFormat &b : kBlocks) {
        if (b.type != type) continue;
        const unsigned char *p = static_cast<const unsigned char *>(data);
        const uint64_t blocks = n / b.values;
        for (uint64_t k = 0; k < blocks; k++, p += b.bytes)
            for (int s = 0; s < b.n_scales; s++) {
                uint16_t h;
                memcpy(&h, p + b.off[s], 2);
                if (half_finite(h)) continue;
                err = fmt("model: tensor %s: block %llu's scale %s is %s (a corrupt file)", name,
                          static_cast<unsigned long long>(k), b.names[s], half_kind(h));
                return false;
            }
        return true;
    }
    return true;
}

}  // namespace bf::llm
