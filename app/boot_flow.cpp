// What the program does when the kernel command line names no command: /BAREFLOW.CFG on the FAT16
// partition (docs/config.md), overridden by key=value words on the command line, decides: generate
// (the default: load the model, generate, print tokens/s and the AOT-vs-JIT table), repl, or bench.
#include "boot_flow.h"

#include "bench/bench.h"
#include "config.h"
#include "jit/dispatch.h"
#include "llm/cli.h"
#include "repl.h"
#include "selftest/selftest.h"

#include <cstdio>
#include <string>
#include <vector>

namespace bf::app {

bf::jit::Options jit_options_from_config(const Settings &c) {
    bf::jit::Options o;
    if (c.jit == Tristate::Off) o.enabled = false;
    if (c.jit_cache == JitCache::Off) o.use_cache = false;
    if (c.jit_cache == JitCache::Clear) o.clear_cache = true;
    if (c.jit_hot_calls >= 0) o.hot_calls = uint64_t(c.jit_hot_calls);
    if (c.jit_hot_cycles >= 0) o.hot_cycles = uint64_t(c.jit_hot_cycles);
    return o;
}

int run_default_flow(uint64_t us_at_main) {
    std::vector<std::string> errors;
    Settings c = config_from_file_and_env("/BAREFLOW.CFG", errors);
    for (const std::string &e : errors) std::printf("BAREFLOW.CFG: %s (using the default)\n", e.c_str());
    std::printf("bareflow: mode %s, model %s, tokenizer %s\n", mode_name(c.mode), c.model.c_str(),
                c.tokenizer.c_str());
    start_jit(jit_options_from_config(c));
    if (c.mode == Mode::Repl) {
        ReplOptions opt;
        opt.settings = c;
        return run_repl(opt);
    }
    if (c.mode == Mode::Bench) return run_bench_llm(c, us_at_main);
    std::string steps = std::to_string(c.steps), temp = std::to_string(c.temperature),
                topp = std::to_string(c.topp), seed = std::to_string(c.seed);
    const char *argv[] = {"generate", c.model.c_str(), c.tokenizer.c_str(), "-n", steps.c_str(), "-t",
                          temp.c_str(), "-P", topp.c_str(), "-s", seed.c_str(), "-p", c.prompt.c_str()};
    int rc = bf::llm::run_generate(int(sizeof argv / sizeof argv[0]), const_cast<char **>(argv));
    std::fflush(stdout);
    if (rc == 0) bf::jit::report();
    else std::printf("bareflow: no generation (put a llama2.c model and tokenizer at %s and %s, or build an image with `make image MODEL=... TOKENIZER=...`)\n",
                     c.model.c_str(), c.tokenizer.c_str());
    return rc;
}

}  // namespace bf::app
