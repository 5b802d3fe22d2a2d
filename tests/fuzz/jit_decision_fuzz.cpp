// libFuzzer target: the JIT's stored decisions (jit/tune.cpp parse) on arbitrary bytes, as a
// damaged or forged /JIT file could hold them. The key is taken from the input's own key field
// (bytes 16..24), so mutations of a valid record get past the key check; each input is tried
// again with its CRC fixed up, so they get past the checksum too. An accepted record must be a
// possible Decision (the next boot applies it without a trial: winner indexes the candidate
// table, names go into messages and JSON), and must survive encode/parse unchanged.
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <vector>

#include "bareflow/crc32.h"
#include "jit/tune.h"

namespace tune = bf::jit::tune;

namespace {

bool possible(const tune::Decision &d) {
    if (d.n < 2 || d.n > tune::kMaxCandidates || d.winner < 0 || d.winner >= d.n) return false;
    for (int i = 0; i < d.n; i++)
        if (!memchr(d.c[i].name, 0, sizeof d.c[i].name) || !d.c[i].name[0]) return false;
    return strcmp(d.c[0].name, "aot") == 0;
}

bool same(const tune::Decision &a, const tune::Decision &b) {
    if (a.n != b.n || a.winner != b.winner) return false;
    for (int i = 0; i < a.n; i++)
        if (strcmp(a.c[i].name, b.c[i].name) != 0 || a.c[i].median != b.c[i].median ||
            a.c[i].samples != b.c[i].samples)
            return false;
    return true;
}

void check(const std::vector<uint8_t> &buf) {
    uint64_t key = 0;
    if (buf.size() >= 24) memcpy(&key, buf.data() + 16, sizeof key);
    tune::Decision d;
    const char *why = tune::parse(buf.data(), buf.size(), key, d);
    if (why) {
        if (!*why) __builtin_trap();  // a reason is said to the user: never empty
        return;
    }
    if (!possible(d)) __builtin_trap();
    const std::vector<uint8_t> again = tune::encode(key, d);
    tune::Decision d2;
    if (tune::parse(again.data(), again.size(), key, d2) || !same(d, d2)) __builtin_trap();
    if (!tune::parse(again.data(), again.size(), key + 1, d2)) __builtin_trap();  // bound to its key
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    // An exact-size copy: ASan then catches a read one byte past the end.
    std::vector<uint8_t> buf(data, data + size);
    check(buf);
    // The same bytes with the CRC made right, so that mutations of the payload reach the checks
    // behind it (counts, winner, names) instead of all stopping at "checksum mismatch".
    if (size > 32) {
        const uint32_t crc = crc32(buf.data() + 32, size - 32);
        memcpy(buf.data() + 12, &crc, sizeof crc);
        check(buf);
    }
    return 0;
}
