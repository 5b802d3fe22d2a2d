// libFuzzer target: the REPL's parse_command on arbitrary bytes. It must never crash; a line with
// an error has no command, and a command never holds control bytes.
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "repl.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const bf::app::Command c = bf::app::parse_command(std::string_view(reinterpret_cast<const char *>(data), size));
    if (!c.error.empty() && (!c.name.empty() || !c.args.empty())) abort();
    if (c.name.empty() && !c.args.empty()) abort();
    for (const std::string &a : c.args)
        for (char ch : a)
            if (static_cast<unsigned char>(ch) < 0x20 && ch != '\t') abort();
    return 0;
}
