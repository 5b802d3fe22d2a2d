// The program glibc's _start calls. On Linux (hosted mode) it runs as an ordinary process; on
// bare metal kernel_lib will enter it through the same _start once the syscall layer exists.
#include "bareflow/kernel.h"

#include <cstdio>

int main() {
    std::printf("BareFlow app: running %s\n", bf::bare_metal() ? "on bare metal" : "hosted (Linux process)");
    return 0;
}
