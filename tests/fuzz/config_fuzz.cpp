// libFuzzer target: parse_config (BAREFLOW.CFG) on arbitrary bytes, then the same bytes as one
// kernel command-line entry. It must never crash, and every error must name a line or its source.
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <string>
#include <vector>

#include "config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const std::string_view text(reinterpret_cast<const char *>(data), size);
    bf::app::Settings c;
    std::vector<std::string> errors;
    const bool ok = bf::app::parse_config(text, c, errors);
    if (ok != errors.empty()) abort();
    for (const std::string &e : errors)
        if (e.compare(0, 5, "line ") != 0) abort();
    // The ranges of llm/params.h (topp [0, 1] as run.c's -p).
    if (!(c.temperature >= 0) || !(c.topp >= 0 && c.topp <= 1) || c.steps < 0) abort();
    // The bytes up to the first NUL as one "key=value" environment entry.
    const std::string entry(text.substr(0, text.find('\0')));
    const char *envp[] = {entry.c_str(), "steps=12", nullptr};
    errors.clear();
    bf::app::overlay_env(c, errors, envp, bf::app::EnvSource::KernelCmdline);
    for (const std::string &e : errors)  // every message names its source
        if (e.compare(0, 21, "kernel command line: ") != 0) abort();
    (void)bf::app::describe(c);
    return 0;
}
