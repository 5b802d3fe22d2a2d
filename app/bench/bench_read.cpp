// `bareflow bench-read PATH`: reads a file start to end in 1 MiB blocks, three times, and prints
// the median rate. A benchmark: it asserts nothing.
#include "bench/bench.h"

#include "bareflow/kernel.h"
#include "bareflow/record.h"
#include "bareflow/profile.h"
#include "bareflow/vfs.h"

#include <algorithm>
#include <cstdio>
#include <vector>

namespace bf::app {

int run_bench_read(const char *path) {
    std::vector<char> buf(1 << 20);
    std::vector<double> rates;
    size_t total = 0;
    for (int rep = 0; rep < 3; rep++) {
        FILE *f = bf::vfs::fopen(path, "rb");
        if (!f) {
            std::printf("bench-read: cannot open %s\n", path);
            return 1;
        }
        setvbuf(f, nullptr, _IONBF, 0);  // measure the file system, not stdio copies
        total = 0;
        uint64_t t0 = bf::prof::begin();
        size_t n;
        while ((n = std::fread(buf.data(), 1, buf.size(), f)) > 0) total += n;
        uint64_t cycles = bf::prof::begin() - t0;
        std::fclose(f);
        rates.push_back(double(total) / (double(cycles) / double(bf::tsc_hz())) / 1e6);
    }
    std::sort(rates.begin(), rates.end());
    std::printf("bench-read: %s, %zu bytes, median of 3: %.1f MB/s (min %.1f, max %.1f)\n", path,
                total, rates[1], rates[0], rates[2]);
    bf::recordf("{\"record\":\"bench_read\",\"path\":\"%s\",\"bytes\":%zu,\"mb_per_s\":%.2f,"
                "\"mb_per_s_min\":%.2f,\"mb_per_s_max\":%.2f}\n",
                path, total, rates[1], rates[0], rates[2]);
    return 0;
}

}  // namespace bf::app
