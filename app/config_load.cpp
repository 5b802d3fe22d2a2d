// Reading BAREFLOW.CFG through bf::vfs, then the environment overlay (kept apart from config.cpp so
// that the parser links alone, e.g. into the fuzz target).
#include <stdio.h>

#include "bareflow/vfs.h"
#include "config.h"

namespace app {

Config config_from_file_and_env(const char *path, std::vector<std::string> &errors) {
    Config c;
    if (FILE *f = bf::vfs::fopen(path, "rb")) {
        std::string text;
        char buf[4096];
        size_t n;
        while ((n = fread(buf, 1, sizeof buf, f)) > 0 && text.size() < (size_t(1) << 20)) text.append(buf, n);
        fclose(f);
        parse_config(text, c, errors);
    }
    overlay_env(c, errors);
    return c;
}

}  // namespace app
