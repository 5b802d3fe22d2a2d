// The program glibc's _start calls, on bare metal (kernel_lib builds a Linux-style initial stack
// from the kernel command line) and hosted (a Linux process). argv[1] picks what to run.
#include "bareflow/kernel.h"
#include "bareflow/vfs.h"
#include "bench/bench.h"
#include "boot_flow.h"
#include "config.h"
#include "jit/background.h"
#include "jit/dispatch.h"
#include "jit_setup.h"
#include "llm/cli.h"
#include "llm/convert.h"
#include "llm/vocab.h"
#include "repl.h"
#include "selftest/selftest.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

using namespace bf::app;

struct Invocation {
    int argc;
    char **argv;  // argv[1] is the command
    uint64_t us_at_main;
    const char *arg(int i) const { return argc > i ? argv[i] : nullptr; }
};

// Commands that run kernels start the JIT as the settings (BAREFLOW.CFG + environment) say.
int cmd_generate(const Invocation &in) {
    const Settings s = load_settings();
    start_jit(jit_options_from_config(s));
    bf::llm::LoadOptions load = load_options(s);
    load.default_tokenizer.clear();  // on the command line a llama2.c model names its tokenizer
    int rc = bf::llm::run_generate(in.argc, in.argv, load);
    end_phase();
    bf::jit::report();  // per kernel and shape: calls and cycles on AOT and on JIT code
    return rc;
}

int cmd_repl(const Invocation &) {
    ReplOptions opt;
    opt.settings = load_settings();
    start_jit(jit_options_from_config(opt.settings));
    return run_repl(opt);
}

int cmd_bench_llm(const Invocation &in) {
    Settings s = load_settings();
    if (in.arg(2)) s.model = in.arg(2);
    if (in.arg(3)) s.tokenizer = in.arg(3);
    start_jit(jit_options_from_config(s));
    return run_bench_llm(s, in.us_at_main);
}

struct CommandRow {
    const char *name;
    int (*run)(const Invocation &);
    const char *help;
};

// The one list of commands: dispatch, the unknown-command message and the hosted banner use it.
constexpr CommandRow kCommands[] = {
    {"selftest", [](const Invocation &) { return run_selftest(); }, "the C/C++ runtime checks"},
    {"selftest-alloc", [](const Invocation &) { return run_alloc_exhaustion(); }, "malloc until it fails, then recover (bare metal)"},
    {"selftest-fault", [](const Invocation &) { return run_fault(); }, "a null-pointer write (bare metal: panic with a backtrace)"},
    {"selftest-wx", [](const Invocation &) { return run_write_text(); }, "a write into the code (bare metal: W^X panic)"},
    {"selftest-stdin", [](const Invocation &) { return run_stdin_echo(); }, "echo stdin lines with their lengths"},
    {"fs-selftest", [](const Invocation &) { return run_fs_selftest(); }, "file I/O through bf::vfs"},
    {"fs-stress", [](const Invocation &) { return run_fs_stress(); }, "endless atomic rewrites (the power-cut soak)"},
    {"jit-selftest", [](const Invocation &) { return run_jit_selftest(load_settings()); }, "every kernel JIT-compiled and checked"},
    {"generate", cmd_generate, "MODEL [TOKENIZER] [-p prompt] [-n steps] [-t temp] [-P topp] [-s seed] [--trace] [-o FILE]"},
    {"tokenize", [](const Invocation &in) {
         if (!in.arg(2) || !in.arg(3)) {
             std::fprintf(stderr, "usage: tokenize MODEL.gguf FILE\n");
             return 2;
         }
         return bf::llm::run_tokenize(in.arg(2), in.arg(3));
     }, "MODEL.gguf FILE: the token ids of FILE's bytes with the model's own vocabulary"},
    {"quantize", [](const Invocation &in) { return bf::llm::run_quantize(in.arg(2), in.arg(3), in.arg(4), in.arg(5)); },
     "MODEL.bin TOKENIZER.bin OUT.gguf f32|q8_0|q4_0: a llama2.c checkpoint as GGUF"},
    {"repl", cmd_repl, "the interactive REPL"},
    {"config-check", [](const Invocation &in) { return run_config_check(in.arg(2)); }, "FILE: check a BAREFLOW.CFG"},
    {"bench-llm", cmd_bench_llm, "[MODEL [TOKENIZER]]: pp/tg tokens/s, AOT and JIT"},
    {"bench-runtime", [](const Invocation &in) { return run_bench_runtime(in.us_at_main); }, "syscall and profiler costs"},
    {"bench-read", [](const Invocation &in) { return run_bench_read(in.arg(2) ? in.arg(2) : "/BENCH.BIN"); }, "[FILE]: file read rate"},
    {"bench-kernels", [](const Invocation &) { return run_bench_kernels(load_settings()); }, "AOT vs JIT kernels on model shapes"},
};

std::string command_names() {
    std::string s;
    for (const CommandRow &c : kCommands) s += std::string(s.empty() ? "" : ", ") + c.name;
    return s;
}

}  // namespace

int main(int argc, char **argv) {
    uint64_t us_at_main = bf::us_since_power_on();
    // Hosted, BAREFLOW_IMAGE=disk.img puts the program's files on that image's FAT16 partition.
    if (!bf::bare_metal())
        if (const char *img = std::getenv("BAREFLOW_IMAGE"); img && !bf::vfs::use_image(img)) return 1;
    const Invocation in{argc, argv, us_at_main};
    const char *cmd = in.arg(1) ? in.arg(1) : "";
    for (const CommandRow &c : kCommands)
        if (!std::strcmp(cmd, c.name)) {
            const int r = c.run(in);
            bf::jit::background::stop();  // a compile still running on the spare core ends first
            return r;
        }
    if (*cmd) {
        std::fprintf(stderr, "bareflow: unknown command '%s' (known: %s)\n", cmd, command_names().c_str());
        return 2;
    }
    if (!bf::bare_metal()) {
        std::printf("BareFlow app: running hosted (Linux process); commands: %s\n", command_names().c_str());
        for (const CommandRow &c : kCommands) std::printf("  %-15s %s\n", c.name, c.help);
        return 0;
    }
    std::printf("BareFlow app: running on bare metal\n");
    return run_default_flow(us_at_main);
}
