// What the program does when the kernel command line names no command: /BAREFLOW.CFG on the FAT16
// partition (docs/config.md), overridden by key=value words on the command line, decides: generate
// (the default: load the model, generate, print tokens/s and the AOT-vs-JIT table), repl, or bench.
#include "boot_flow.h"

#include "bareflow/vfs.h"
#include "bench/bench.h"
#include "config.h"
#include "jit/dispatch.h"
#include "jit_setup.h"
#include "llm/cli.h"
#include "repl.h"

#include <cerrno>
#include <cstdio>
#include <string>
#include <vector>

namespace bf::app {

bf::llm::LoadOptions load_options(const Settings &s) {
    bf::llm::LoadOptions o;
    o.default_tokenizer = s.tokenizer;
    o.ctx = s.ctx;
    o.kv_f16 = s.kv == KvType::Auto ? -1 : s.kv == KvType::F16 ? 1 : 0;
    return o;
}

int run_default_flow(uint64_t us_at_main) {
    std::vector<std::string> errors;
    Settings c = config_from_file_and_env(kConfigPath, errors);
    for (const std::string &e : errors) std::printf("%s\n", e.c_str());
    use_console_settings(c);
    std::printf("bareflow: mode %s, model %s, tokenizer %s\n", mode_name(c.mode), c.model.c_str(),
                c.tokenizer.c_str());
    start_jit(jit_options_from_config(c));
    end_phase();  // start-up's records (boot, hw, jit_target) before the work's output
    if (c.mode == Mode::Repl) {
        ReplOptions opt;
        opt.settings = c;
        return run_repl(opt);
    }
    if (c.mode == Mode::Bench) return run_bench_llm(c, us_at_main);
    bf::llm::GenerateRequest req;
    req.model = c.model;
    req.load = load_options(c);  // a GGUF model brings its own tokenizer
    req.prompt = c.prompt;
    req.steps = c.steps;
    req.temperature = c.temperature;
    req.topp = c.topp;
    req.seed = c.seed;  // 0: from the time, as run.c
    int rc = bf::llm::run_generate_request(req);
    end_phase();
    uint64_t size = 0;
    bool is_dir = false;
    // The hint only when it helps: a volume is there and the model is not (else the error and
    // the boot's storage/fs lines already said why).
    if (rc == 0)
        bf::jit::report();
    else if (bf::vfs::stat_size("/", &size, &is_dir) == 0 && bf::vfs::stat_size(c.model.c_str(), &size, &is_dir) == -ENOENT)
        std::printf("bareflow: no generation (put a llama2.c model and tokenizer at %s and %s, or build an image with `make image MODEL=... TOKENIZER=...`)\n",
                    c.model.c_str(), c.tokenizer.c_str());
    else
        std::printf("bareflow: no generation\n");
    return rc;
}

}  // namespace bf::app
