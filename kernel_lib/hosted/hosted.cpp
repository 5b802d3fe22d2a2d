#include "hosted.h"

#include <stdlib.h>
#include <time.h>
#include <unistd.h>

namespace bf::hosted {

void write_fd(int fd, const char *s, size_t n) {
    while (n) {
        ssize_t w = ::write(fd, s, n);
        if (w <= 0) return;
        s += w;
        n -= size_t(w);
    }
}

void exit(int status) { ::exit(status); }

uint64_t monotonic_ns() {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return uint64_t(ts.tv_sec) * 1000000000ull + uint64_t(ts.tv_nsec);
}

}  // namespace bf::hosted
