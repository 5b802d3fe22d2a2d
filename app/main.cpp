// The program glibc's _start calls, on bare metal (kernel_lib builds a Linux-style initial stack
// from the kernel command line) and hosted (a Linux process). argv[1] picks what to run.
#include "bareflow/kernel.h"
#include "bench_runtime.h"
#include "selftest.h"

#include <cstdio>
#include <cstring>

int main(int argc, char **argv) {
    uint64_t us_at_main = bf::us_since_power_on();
    const char *cmd = argc > 1 ? argv[1] : "";
    if (!std::strcmp(cmd, "bench-runtime")) return app::run_bench_runtime(us_at_main);
    if (!std::strcmp(cmd, "selftest")) return app::run_selftest();
    if (!std::strcmp(cmd, "selftest-alloc")) return app::run_alloc_exhaustion();
    if (!std::strcmp(cmd, "selftest-fault")) return app::run_fault();
    if (!std::strcmp(cmd, "selftest-wx")) return app::run_write_text();
    if (!std::strcmp(cmd, "selftest-stdin")) return app::run_stdin_echo();
    if (*cmd) {
        std::fprintf(stderr, "bareflow: unknown command '%s' (known: selftest, selftest-alloc, selftest-fault, selftest-wx, selftest-stdin, bench-runtime)\n", cmd);
        return 2;
    }
    std::printf("BareFlow app: running %s\n", bf::bare_metal() ? "on bare metal" : "hosted (Linux process)");
    return 0;
}
