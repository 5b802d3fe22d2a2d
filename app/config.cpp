// BAREFLOW.CFG parsing (docs/config.md). Pure: no allocation failures are handled specially, no
// exceptions, every input byte sequence yields a Settings plus a list of errors.
#include "config.h"

#include "llm/params.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

namespace bf::app {
namespace {

using bf::llm::shown;

constexpr const char *kKeys[] = {"model", "tokenizer",  "prompt",        "steps",
                                 "temperature", "topp", "seed",          "jit",
                                 "jit_cache",   "jit_hot_calls", "jit_hot_cycles", "jit_tune", "jit_search_ms", "jit_variant", "jit_compile", "mode",
                                 "ctx",         "kv",            "records",     "verbose",
                                 "threads"};

char lower(char c) { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; }

bool iequal(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); i++)
        if (lower(a[i]) != lower(b[i])) return false;
    return true;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
    return s;
}

bool valid_utf8(std::string_view s) {
    size_t i = 0;
    while (i < s.size()) {
        const unsigned char c = static_cast<unsigned char>(s[i]);
        int n = c < 0x80 ? 0 : (c >> 5) == 6 ? 1 : (c >> 4) == 14 ? 2 : (c >> 3) == 30 ? 3 : -1;
        if (n < 0 || (n == 1 && c < 0xc2) || (n == 3 && c > 0xf4)) return false;
        if (i + size_t(n) >= s.size() + (n == 0)) return false;
        for (int k = 1; k <= n; k++)
            if ((static_cast<unsigned char>(s[i + k]) & 0xc0) != 0x80) return false;
        if (n == 2) {  // no overlongs, no surrogates
            const unsigned char d = static_cast<unsigned char>(s[i + 1]);
            if ((c == 0xe0 && d < 0xa0) || (c == 0xed && d >= 0xa0)) return false;
        }
        if (n == 3) {
            const unsigned char d = static_cast<unsigned char>(s[i + 1]);
            if ((c == 0xf0 && d < 0x90) || (c == 0xf4 && d >= 0x90)) return false;
        }
        i += size_t(n) + 1;
    }
    return true;
}

// A string value: bare (as is) or "quoted" with \" \\ \n \t escapes.
bool string_value(std::string_view v, std::string &out, std::string &err) {
    if (v.empty() || v.front() != '"') {
        out.assign(v);
        return true;
    }
    std::string s;
    size_t i = 1;
    for (; i < v.size() && v[i] != '"'; i++) {
        if (v[i] != '\\') {
            s += v[i];
            continue;
        }
        if (++i >= v.size()) break;
        switch (v[i]) {
        case 'n': s += '\n'; break;
        case 't': s += '\t'; break;
        case '"': s += '"'; break;
        case '\\': s += '\\'; break;
        default:
            err = std::string("unknown escape '\\") + shown(v.substr(i, 1)) + "' in a quoted string";
            return false;
        }
    }
    if (i >= v.size()) {
        err = "unterminated quoted string";
        return false;
    }
    if (!trim(v.substr(i + 1)).empty()) {
        err = "text after the closing quote: '" + shown(v.substr(i + 1)) + "'";
        return false;
    }
    out = s;
    return true;
}

// One of `words` (case-insensitive): its index, or -1 with err set.
int word_value(std::string_view v, std::initializer_list<const char *> words, std::string &err) {
    int i = 0;
    std::string list;
    for (const char *w : words) {
        if (iequal(v, w)) return i;
        list += (i ? "|" : "");
        list += w;
        i++;
    }
    err = "'" + shown(v) + "' is not one of " + list;
    return -1;
}

}  // namespace

bool apply_setting(std::string_view key, std::string_view value, Settings &out, std::string &err) {
    int64_t i = 0;
    if (iequal(key, "model") || iequal(key, "tokenizer") || iequal(key, "prompt")) {
        std::string s;
        if (!string_value(value, s, err)) return false;
        if (s.empty() && !iequal(key, "prompt")) {
            err = "empty path";
            return false;
        }
        (iequal(key, "model") ? out.model : iequal(key, "tokenizer") ? out.tokenizer : out.prompt) = s;
        return true;
    }
    // The sampling parameters: the validator the generate flags use too (llm/params.h).
    if (iequal(key, "steps")) {
        if (!bf::llm::parse_steps(value, i, err)) return false;
        out.steps = int(i);
        return true;
    }
    if (iequal(key, "temperature")) return bf::llm::parse_temperature(value, out.temperature, err);
    if (iequal(key, "topp")) return bf::llm::parse_topp(value, out.topp, err);
    if (iequal(key, "seed")) return bf::llm::parse_seed(value, out.seed, err);
    if (iequal(key, "jit")) {
        const int w = word_value(value, {"on", "off"}, err);
        if (w < 0) return false;
        out.jit = w == 0 ? Tristate::On : Tristate::Off;
        return true;
    }
    if (iequal(key, "jit_cache")) {
        const int w = word_value(value, {"on", "off", "clear"}, err);
        if (w < 0) return false;
        out.jit_cache = w == 0 ? JitCache::On : w == 1 ? JitCache::Off : JitCache::Clear;
        return true;
    }
    if (iequal(key, "jit_hot_calls") || iequal(key, "jit_hot_cycles")) {
        if (!bf::llm::parse_int(value, 0, INT64_MAX, i, err)) return false;
        (iequal(key, "jit_hot_calls") ? out.jit_hot_calls : out.jit_hot_cycles) = i;
        return true;
    }
    if (iequal(key, "jit_tune")) {
        const int w = word_value(value, {"search", "keep", "off"}, err);
        if (w < 0) return false;
        out.jit_tune = JitTune(w + 1);
        return true;
    }
    if (iequal(key, "jit_compile")) {
        const int w = word_value(value, {"background", "inline"}, err);
        if (w < 0) return false;
        out.jit_compile = JitCompile(w);
        return true;
    }
    if (iequal(key, "jit_search_ms")) {
        if (!bf::llm::parse_int(value, 0, 3600000, i, err)) return false;
        out.jit_search_ms = i;
        return true;
    }
    if (iequal(key, "jit_variant")) {  // which exist is known only at run time (jit.h variants())
        std::string s;
        if (!string_value(value, s, err)) return false;
        if (s.size() >= 16) {
            err = "'" + shown(s) + "' is longer than any variant name";
            return false;
        }
        out.jit_variant = s;
        return true;
    }
    if (iequal(key, "ctx")) {
        if (!bf::llm::parse_int(value, 0, 1 << 22, i, err)) return false;
        out.ctx = int(i);
        return true;
    }
    if (iequal(key, "kv")) {
        const int w = word_value(value, {"auto", "f16", "f32"}, err);
        if (w < 0) return false;
        out.kv = KvType(w);
        return true;
    }
    if (iequal(key, "records")) {
        const int w = word_value(value, {"auto", "com1", "com2", "off"}, err);
        if (w < 0) return false;
        out.records = Records(w);
        return true;
    }
    if (iequal(key, "threads")) {  // how many are online is known only at run time (pool.h)
        if (!bf::llm::parse_int(value, 0, 64, i, err)) return false;
        out.threads = int(i);
        return true;
    }
    if (iequal(key, "verbose")) {
        if (!bf::llm::parse_int(value, 0, 1, i, err)) return false;
        out.verbose = i == 1;
        return true;
    }
    if (iequal(key, "mode")) {
        const int w = word_value(value, {"generate", "repl", "bench"}, err);
        if (w < 0) return false;
        out.mode = Mode(w);
        return true;
    }
    err = "unknown key";
    return false;
}

bool parse_config(std::string_view text, Settings &out, std::vector<std::string> &errors) {
    const size_t errors_before = errors.size();
    if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);  // a UTF-8 BOM
    size_t line_no = 0;
    while (!text.empty()) {
        line_no++;
        const size_t nl = text.find('\n');
        std::string_view raw = text.substr(0, nl);
        text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
        const std::string prefix = "line " + std::to_string(line_no) + ": ";
        // The key, if the line has one, for the messages about the whole line.
        const size_t eq = raw.substr(0, 256).find('=');
        const std::string_view key = eq == std::string_view::npos ? std::string_view() : trim(raw.substr(0, eq));
        const std::string keyname = key.empty() ? std::string("(none)") : "'" + shown(key) + "'";
        if (raw.size() > kMaxConfigLine) {
            errors.push_back(prefix + "key " + keyname + ": line too long (" + std::to_string(raw.size()) +
                             " bytes, max " + std::to_string(kMaxConfigLine) + "), ignored");
            continue;
        }
        if (raw.find('\0') != std::string_view::npos) {
            errors.push_back(prefix + "key " + keyname + ": line has a NUL byte, ignored");
            continue;
        }
        if (!valid_utf8(raw)) {
            errors.push_back(prefix + "key " + keyname + ": not valid UTF-8, ignored");
            continue;
        }
        const std::string_view line = trim(raw);
        if (line.empty() || line.front() == '#') continue;
        if (eq == std::string_view::npos || raw.find('=') == std::string_view::npos) {
            errors.push_back(prefix + "missing '=' in '" + shown(line) + "' (expected key = value)");
            continue;
        }
        if (key.empty()) {
            errors.push_back(prefix + "missing key before '='");
            continue;
        }
        std::string err;
        if (!apply_setting(key, trim(raw.substr(eq + 1)), out, err))
            errors.push_back(prefix + "key '" + shown(key) + "': " + err);
    }
    return errors.size() == errors_before;
}

// key=value words of the kernel command line that are not settings but are read elsewhere: the
// kernel's own switches (kernel_lib/kernel.cpp: disk=, test=) and the benchmarks' knobs
// (app/bench/: bench_*). Any other unknown key on the command line is a typo worth a warning.
constexpr const char *kOtherCmdlineKeys[] = {"disk", "test", "bench_reps", "bench_pp", "bench_tg",
                                             "bench_big", "bench_budget_ms", "bench_bw_mib"};

bool overlay_env(Settings &out, std::vector<std::string> &errors, const char *const *envp, EnvSource source) {
    const size_t errors_before = errors.size();
    const std::string label = source == EnvSource::KernelCmdline ? "kernel command line" : "environment";
    for (; envp && *envp; envp++) {
        const std::string_view kv = *envp;
        const size_t eq = kv.find('=');
        if (eq == std::string_view::npos) continue;
        const std::string_view key = kv.substr(0, eq);
        bool known = false, other = false;
        for (const char *k : kKeys) known = known || iequal(key, k);
        for (const char *k : kOtherCmdlineKeys) other = other || key == k;
        if (!known) {
            // Hosted, the environment is full of unrelated variables (PATH, HOME): only the
            // kernel command line is ours alone.
            if (source == EnvSource::KernelCmdline && !other) {
                std::string list;
                for (const char *k : kKeys) list += std::string(list.empty() ? "" : ", ") + k;
                errors.push_back(label + ": unknown key '" + shown(key) + "', ignored (settings: " + list + ")");
            }
            continue;
        }
        std::string err;
        if (kv.size() > kMaxConfigLine)
            err = "value too long (" + std::to_string(kv.size()) + " bytes)";
        if (!err.empty() || !apply_setting(key, kv.substr(eq + 1), out, err))
            errors.push_back(label + ": key '" + shown(key) + "': " + err);
    }
    return errors.size() == errors_before;
}


const char *mode_name(Mode m) {
    return m == Mode::Repl ? "repl" : m == Mode::Bench ? "bench" : "generate";
}

std::string describe(const Settings &c) {
    char b[512];
    std::string o = "model = " + c.model + "\ntokenizer = " + c.tokenizer + "\nprompt = \"";
    for (char ch : c.prompt) o += ch == '"' ? std::string("\\\"") : ch == '\\' ? std::string("\\\\") :
                                  ch == '\n' ? std::string("\\n") : std::string(1, ch);
    snprintf(b, sizeof b,
             "\"\nsteps = %d\ntemperature = %g\ntopp = %g\nseed = %llu\nmode = %s\nctx = %d\nkv = %s\nrecords = %s\n"
             "verbose = %d\nthreads = %d\n", c.steps,
             double(c.temperature), double(c.topp), static_cast<unsigned long long>(c.seed), mode_name(c.mode), c.ctx,
             c.kv == KvType::F16 ? "f16" : c.kv == KvType::F32 ? "f32" : "auto",
             c.records == Records::Com1 ? "com1" : c.records == Records::Com2 ? "com2" : c.records == Records::Off ? "off" : "auto",
             c.verbose ? 1 : 0, c.threads);
    o += b;
    return o;
}

}  // namespace bf::app
