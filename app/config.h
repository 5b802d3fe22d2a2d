// BAREFLOW.CFG: the boot configuration (format in docs/config.md). One `key = value` per line,
// `#` comments, keys case-insensitive; the kernel command line (environment variables) overrides
// the file. Parsing is pure and never fails hard: every bad entry is an error message naming the
// line and key, and that setting keeps its default.
#pragma once
#include <stdint.h>

#include <string>
#include <string_view>
#include <vector>

namespace bf::app {

enum class Tristate : uint8_t { Unset, On, Off };
enum class JitCache : uint8_t { Unset, On, Off, Clear };
enum class JitTune : uint8_t { Unset, Search, Keep, Off };  // bf::jit::Options::Tune
enum class JitCompile : uint8_t { Background, Inline };    // bf::jit::Options::Compile
enum class Mode : uint8_t { Generate, Repl, Bench };
enum class KvType : uint8_t { Auto, F16, F32 };  // Auto: the format's (llama2.c f32, GGUF f16)
enum class Records : uint8_t { Auto, Com1, Com2, Off };  // Auto: COM2 if it answers (docs/records.md)

// The BAREFLOW.CFG settings. (bf::llm::Config is something else: a model's dimensions.)
struct Settings {
    std::string model = "/MODELS/MODEL.BIN";
    std::string tokenizer = "/MODELS/TOKENIZ.BIN";
    std::string prompt;
    int steps = 256;
    float temperature = 0.0f;  // 0 = greedy
    float topp = 0.9f;
    uint64_t seed = 0;         // 0 = from the TSC
    Tristate jit = Tristate::Unset;
    JitCache jit_cache = JitCache::Unset;
    int64_t jit_hot_calls = -1;   // -1: the JIT's default
    int64_t jit_hot_cycles = -1;
    JitTune jit_tune = JitTune::Unset;
    int64_t jit_search_ms = -1;   // -1: the JIT's default
    std::string jit_variant;      // "": the default recipe (and the trial)
    JitCompile jit_compile = JitCompile::Background;  // on a spare core when there is one
    Mode mode = Mode::Generate;
    int ctx = 0;                  // KV cache positions; 0: the model's context, capped by free memory
    KvType kv = KvType::Auto;
    Records records = Records::Auto;
    bool verbose = false;         // the boot's memory map, PCI list and cache table
    int threads = 0;              // cores the forward pass uses; 0: every core online
};

constexpr size_t kMaxConfigLine = 4096;
constexpr uint64_t kMaxConfigFile = uint64_t(1) << 20;  // a bigger BAREFLOW.CFG is an error, not parsed
constexpr const char *kConfigPath = "/BAREFLOW.CFG";

// Applies one `key`/`value` pair. False (err set, e.g. "steps: 'abc' is not an integer") if the
// key is unknown or the value is bad; `out` is then unchanged for that key.
bool apply_setting(std::string_view key, std::string_view value, Settings &out, std::string &err);

// Parses a whole file over `out` (start from Settings{} for defaults). Errors read
// "line N: key 'k': problem". Returns true when there were none.
bool parse_config(std::string_view text, Settings &out, std::vector<std::string> &errors);

// Where key=value variables came from: on bare metal the kernel command line (every word is
// ours: an unknown key is a typo and gets a warning), hosted the process environment (full of
// unrelated variables: unknown ones are not ours to judge).
enum class EnvSource : uint8_t { Environment, KernelCmdline };

// The overlay from the environment: for each known key (any case: MODEL, model) that is set,
// applies it over `out`. Errors name the source: "environment: key 'k': problem" or
// "kernel command line: key 'k': problem", "kernel command line: unknown key 'k', ignored (...)".
bool overlay_env(Settings &out, std::vector<std::string> &errors);  // environ, source from bf::bare_metal()
bool overlay_env(Settings &out, std::vector<std::string> &errors, const char *const *envp, EnvSource source);

// The file (if present, via bf::vfs) then the environment. A missing file is not an error. Each
// error names its source: "/BAREFLOW.CFG: line N: ...", "environment: ...", "kernel command line: ...".
Settings config_from_file_and_env(const char *path, std::vector<std::string> &errors);

// What every command starts from: kConfigPath plus the environment, each error printed on stderr
// with its source (that setting keeps its default). Applies the console settings.
Settings load_settings();

// The settings that shape the console (records = ..., verbose = 1: the boot's details): kernel_lib
// is told once they are known.
void use_console_settings(const Settings &s);

// The end of a phase's human output: stdout and stderr flushed, output held for a generation
// released, then the records that waited for COM1 (docs/records.md).
void end_phase();

// The `config-check FILE` command: prints the errors or "config ok", then the settings.
int run_config_check(const char *path);

const char *mode_name(Mode m);
std::string describe(const Settings &c);  // "model = ...\n..." lines, as in the file format

}  // namespace bf::app
