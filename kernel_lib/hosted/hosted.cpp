#include "hosted.h"

#include <stdlib.h>
#include <unistd.h>

namespace bf::hosted {

void write_stdout(const char *s, size_t n) {
    while (n) {
        ssize_t w = ::write(1, s, n);
        if (w <= 0) return;
        s += w;
        n -= size_t(w);
    }
}

void exit(int status) { ::exit(status); }

}  // namespace bf::hosted
