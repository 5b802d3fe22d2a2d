// `bareflow fs-stress`: the power-cut workload. Forever: pick slot i % 16, write its next version
// atomically (temporary file, fsync, rename over /STRESS/SLOTnn.BIN) and print
// "stress: committed SLOTnn.BIN v<version> <bytes>" only after the rename returned. Content of
// version v is byte k = (k * 31 + v * 7) & 0xFF, v * 1013 % 70000 + 1 bytes long, so a checker can
// regenerate it. tests/soak/powercut.sh kills the machine at random moments and verifies that every
// committed version is on disk intact.
#include "selftest.h"

#include "bareflow/vfs.h"

#include <cerrno>
#include <cstdio>
#include <vector>

namespace bf::app {

int run_fs_stress() {
    int r = bf::vfs::mkdir("/STRESS");
    if (r && r != -EEXIST) {
        std::printf("stress: cannot create /STRESS (%d)\n", r);
        return 1;
    }
    std::printf("stress: start\n");
    std::fflush(stdout);
    std::vector<unsigned char> buf;
    for (unsigned v = 1;; v++) {
        unsigned slot = v % 16;
        size_t n = v * 1013u % 70000u + 1;
        buf.resize(n);
        for (size_t k = 0; k < n; k++) buf[k] = static_cast<unsigned char>((k * 31 + v * 7) & 0xFF);
        char path[32];
        std::snprintf(path, sizeof path, "/STRESS/SLOT%02u.BIN", slot);
        if ((r = bf::vfs::write_atomic(path, buf.data(), n))) {
            std::printf("stress: write of %s v%u failed (%d)\n", path, v, r);
            return 1;
        }
        std::printf("stress: committed SLOT%02u.BIN v%u %zu\n", slot, v, n);
        std::fflush(stdout);
    }
}

}  // namespace bf::app
