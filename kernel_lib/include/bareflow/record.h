// Records from the program (app, jit: after glibc start-up, so printf's %f is there), written
// through kernel_lib's records channel (kernel.h). kernel_lib itself uses krecordf.
#pragma once
#include <stdarg.h>
#include <stdio.h>

#include <string>

#include "bareflow/kernel.h"

namespace bf {

__attribute__((format(printf, 1, 2))) inline void recordf(const char *fmt, ...) {
    char buf[1024];
    va_list ap, again;
    va_start(ap, fmt);
    va_copy(again, ap);
    const int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n >= 0 && size_t(n) < sizeof buf) {
        record_write(buf, size_t(n));
    } else if (n > 0) {  // a long record (LLVM's feature string): the heap
        std::string big(size_t(n) + 1, '\0');
        vsnprintf(big.data(), big.size(), fmt, again);
        record_write(big.data(), size_t(n));
    }
    va_end(again);
}

}  // namespace bf
