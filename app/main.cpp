// The program glibc's _start calls, on bare metal (kernel_lib builds a Linux-style initial stack
// from the kernel command line) and hosted (a Linux process). argv[1] picks what to run.
#include "bareflow/kernel.h"
#include "selftest.h"

#include <cstdio>
#include <cstring>

int main(int argc, char **argv) {
    const char *cmd = argc > 1 ? argv[1] : "";
    if (!std::strcmp(cmd, "selftest")) return app::run_selftest();
    if (!std::strcmp(cmd, "selftest-alloc")) return app::run_alloc_exhaustion();
    if (!std::strcmp(cmd, "selftest-fault")) return app::run_fault();
    if (*cmd) {
        std::fprintf(stderr, "bareflow: unknown command '%s' (known: selftest, selftest-alloc, selftest-fault)\n", cmd);
        return 2;
    }
    std::printf("BareFlow app: running %s\n", bf::bare_metal() ? "on bare metal" : "hosted (Linux process)");
    return 0;
}
