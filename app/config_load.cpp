// Reading BAREFLOW.CFG through bf::vfs, then the environment overlay (kept apart from config.cpp so
// that the parser links alone, e.g. into the fuzz target).
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "bareflow/vfs.h"
#include "config.h"

namespace bf::app {

Settings config_from_file_and_env(const char *path, std::vector<std::string> &errors) {
    Settings c;
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

}  // namespace bf::app

namespace bf::app {

// `config-check FILE`: parses FILE (through bf::vfs) and prints each error, or "config ok".
int run_config_check(const char *path) {
    if (!path) {
        fprintf(stderr, "usage: config-check FILE\n");
        return 2;
    }
    FILE *f = bf::vfs::fopen(path, "rb");
    if (!f) {
        printf("config-check: cannot open %s: %s\n", path, strerror(errno));
        return 1;
    }
    std::string text;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) text.append(buf, n);
    fclose(f);
    Settings c;
    std::vector<std::string> errors;
    parse_config(text, c, errors);
    for (const std::string &e : errors) printf("%s: %s\n", path, e.c_str());
    if (errors.empty()) printf("config ok\n");
    printf("%s", describe(c).c_str());
    return errors.empty() ? 0 : 1;
}

}  // namespace bf::app
