// Trials, decisions and their stored form (tune.h).
#include "tune.h"

#include "bareflow/crc32.h"

#include <algorithm>
#include <cstring>

namespace bf::jit::tune {

namespace {

struct Header {
    char magic[8];      // "BFJITWIN"
    uint32_t version;   // 1
    uint32_t crc;       // CRC-32 of the payload
    uint64_t key;
    uint64_t size;      // payload bytes that follow
};
static_assert(sizeof(Header) == 32);

struct Payload {
    int32_t n, winner;
    Candidate c[kMaxCandidates];
};
static_assert(sizeof(Candidate) == 32 && sizeof(Payload) == 8 + 32 * kMaxCandidates);

bool name_ok(const char *s) {  // NUL-terminated in its array, printable, not empty
    size_t k = 0;
    for (; k < sizeof(Candidate::name) && s[k]; k++)
        if (s[k] <= ' ' || s[k] > '~' || s[k] == '"' || s[k] == '\\') return false;
    return k > 0 && k < sizeof(Candidate::name);
}

}  // namespace

int decide(const uint64_t *median, int n) {
    if (n < 2) return 0;
    int best = 1;
    for (int v = 2; v < n; v++)
        if (median[v] < median[best] && double(median[v]) <= double(median[1]) * (1 - kMargin)) best = v;
    return double(median[best]) <= double(median[0]) * (1 - kMargin) ? best : 0;
}

void Trial::begin(int n) {
    *this = Trial();
    n_ = std::clamp(n, 2, kMaxCandidates);
    cur_ = 1;
}

void Trial::add(int c, uint64_t cycles) {
    if (done_ || c < 0 || c >= n_) return;
    uint32_t &k = seen_[c];
    if (k >= kWarmCalls && k < kWarmCalls + kSamples) samples_[c][k - kWarmCalls] = cycles;
    if (k < kWarmCalls + kSamples) k++;
    if (c != cur_) return;
    for (int step = 1; step <= n_; step++) {  // the next candidate that still needs calls
        const int next = (cur_ + step) % n_;
        if (seen_[next] < kWarmCalls + kSamples) {
            cur_ = next;
            return;
        }
    }
    finish();
}

void Trial::finish() {
    uint64_t median[kMaxCandidates];
    d_ = Decision();
    d_.n = n_;
    for (int c = 0; c < n_; c++) {
        uint64_t *s = samples_[c];
        std::nth_element(s, s + kSamples / 2, s + kSamples);
        median[c] = s[kSamples / 2];
        d_.c[c].median = median[c];
        d_.c[c].samples = kSamples;
    }
    d_.winner = decide(median, n_);
    done_ = true;
}

std::vector<uint8_t> encode(uint64_t key, const Decision &d) {
    Payload p{};
    p.n = d.n;
    p.winner = d.winner;
    for (int i = 0; i < d.n && i < kMaxCandidates; i++) {  // field by field: no padding bytes from the stack
        memcpy(p.c[i].name, d.c[i].name, sizeof p.c[i].name);
        p.c[i].median = d.c[i].median;
        p.c[i].samples = d.c[i].samples;
    }
    Header h{};
    memcpy(h.magic, "BFJITWIN", 8);
    h.version = 1;
    h.crc = crc32(&p, sizeof p);
    h.key = key;
    h.size = sizeof p;
    std::vector<uint8_t> out(sizeof h + sizeof p);
    memcpy(out.data(), &h, sizeof h);
    memcpy(out.data() + sizeof h, &p, sizeof p);
    return out;
}

const char *parse(const uint8_t *bytes, size_t size, uint64_t key, Decision &out) {
    Header h;
    Payload p;
    if (size < sizeof h) return "shorter than its header";
    memcpy(&h, bytes, sizeof h);
    if (memcmp(h.magic, "BFJITWIN", 8) != 0 || h.version != 1) return "bad magic or version";
    if (h.key != key) return "key does not match its name";
    if (h.size != sizeof p || size != sizeof h + sizeof p) return "wrong size";
    memcpy(&p, bytes + sizeof h, sizeof p);
    if (crc32(&p, sizeof p) != h.crc) return "checksum mismatch";
    if (p.n < 2 || p.n > kMaxCandidates || p.winner < 0 || p.winner >= p.n) return "impossible candidate count";
    for (int i = 0; i < p.n; i++)
        if (!name_ok(p.c[i].name)) return "bad candidate name";
    if (strcmp(p.c[0].name, "aot") != 0) return "first candidate is not AOT";
    out = Decision();
    out.n = p.n;
    out.winner = p.winner;
    for (int i = 0; i < p.n; i++) out.c[i] = p.c[i];
    return nullptr;
}

}  // namespace bf::jit::tune
