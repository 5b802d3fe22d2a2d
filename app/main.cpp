// The program glibc's _start calls, on bare metal (kernel_lib builds a Linux-style initial stack
// from the kernel command line) and hosted (a Linux process). argv[1] picks what to run.
#include "bareflow/kernel.h"
#include "bareflow/vfs.h"
#include "bench/bench.h"
#include "boot_flow.h"
#include "config.h"
#include "jit/dispatch.h"
#include "llm/cli.h"
#include "repl.h"
#include "selftest/selftest.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>

int main(int argc, char **argv) {
    uint64_t us_at_main = bf::us_since_power_on();
    // Hosted, BAREFLOW_IMAGE=disk.img puts the program's files on that image's FAT16 partition.
    if (!bf::bare_metal())
        if (const char *img = std::getenv("BAREFLOW_IMAGE"); img && !bf::vfs::use_image(img)) return 1;
    const char *cmd = argc > 1 ? argv[1] : "";
    if (!std::strcmp(cmd, "bench-runtime")) return bf::app::run_bench_runtime(us_at_main);
    if (!std::strcmp(cmd, "bench-kernels")) return bf::app::run_bench_kernels();
    if (!std::strcmp(cmd, "bench-read")) return bf::app::run_bench_read(argc > 2 ? argv[2] : "/BENCH.BIN");
    if (!std::strcmp(cmd, "selftest")) return bf::app::run_selftest();
    if (!std::strcmp(cmd, "selftest-alloc")) return bf::app::run_alloc_exhaustion();
    if (!std::strcmp(cmd, "selftest-fault")) return bf::app::run_fault();
    if (!std::strcmp(cmd, "selftest-wx")) return bf::app::run_write_text();
    if (!std::strcmp(cmd, "selftest-stdin")) return bf::app::run_stdin_echo();
    if (!std::strcmp(cmd, "fs-selftest")) return bf::app::run_fs_selftest();
    if (!std::strcmp(cmd, "fs-stress")) return bf::app::run_fs_stress();
    if (!std::strcmp(cmd, "jit-selftest")) return bf::app::run_jit_selftest();
    if (!std::strcmp(cmd, "generate")) {  // model inference; every kernel through the JIT's dispatch
        bf::app::start_jit(bf::app::jit_options_from_env());
        int rc = bf::llm::run_generate(argc, argv);
        std::fflush(stdout);
        bf::jit::report();  // per kernel and shape: calls and cycles on AOT and on JIT code
        return rc;
    }
    if (!std::strcmp(cmd, "repl")) {
        std::vector<std::string> errors;
        bf::app::ReplOptions opt;
        opt.settings = bf::app::config_from_file_and_env("/BAREFLOW.CFG", errors);
        for (const std::string &e : errors) std::fprintf(stderr, "BAREFLOW.CFG: %s\n", e.c_str());
        bf::app::start_jit(bf::app::jit_options_from_config(opt.settings));
        return bf::app::run_repl(opt);
    }
    if (!std::strcmp(cmd, "config-check")) return bf::app::run_config_check(argc > 2 ? argv[2] : nullptr);
    if (!std::strcmp(cmd, "bench-llm")) {  // bench-llm [MODEL TOKENIZER]
        std::vector<std::string> errors;
        bf::app::Settings c = bf::app::config_from_file_and_env("/BAREFLOW.CFG", errors);
        if (argc > 2) c.model = argv[2];
        if (argc > 3) c.tokenizer = argv[3];
        bf::app::start_jit(bf::app::jit_options_from_config(c));
        return bf::app::run_bench_llm(c, us_at_main);
    }
    if (*cmd) {
        std::fprintf(stderr, "bareflow: unknown command '%s' (known: selftest, selftest-alloc, selftest-fault, selftest-wx, selftest-stdin, fs-selftest, fs-stress, jit-selftest, generate, repl, config-check, bench-llm, bench-runtime, bench-read, bench-kernels)\n", cmd);
        return 2;
    }
    if (!bf::bare_metal()) {
        std::printf("BareFlow app: running hosted (Linux process); commands: %s\n", "selftest, selftest-alloc, selftest-fault, selftest-wx, selftest-stdin, fs-selftest, fs-stress, jit-selftest, generate, repl, config-check, bench-llm, bench-runtime, bench-read, bench-kernels");
        return 0;
    }
    std::printf("BareFlow app: running on bare metal\n");
    return bf::app::run_default_flow(us_at_main);
}
