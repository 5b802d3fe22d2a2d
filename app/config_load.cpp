// Reading BAREFLOW.CFG through bf::vfs, then the environment overlay (kept apart from config.cpp so
// that the parser links alone, e.g. into the fuzz target).
#include <stdio.h>

#include "bareflow/kernel.h"
#include "bareflow/pool.h"
#include "bareflow/vfs.h"
#include "config.h"

extern char **environ;

namespace bf::app {

bool overlay_env(Settings &out, std::vector<std::string> &errors) {
    return overlay_env(out, errors, environ, bf::bare_metal() ? EnvSource::KernelCmdline : EnvSource::Environment);
}

Settings config_from_file_and_env(const char *path, std::vector<std::string> &errors) {
    Settings c;
    uint64_t size = 0;
    bool is_dir = false;
    // No file is the normal case (defaults); any other problem with it is reported.
    if (bf::vfs::stat_size(path, &size, &is_dir) == 0) {
        bf::vfs::Bytes text;
        std::string err;
        std::vector<std::string> file_errors;
        if (bf::vfs::read_all(path, kMaxConfigFile, text, err))
            parse_config(std::string_view(reinterpret_cast<const char *>(text.data()), text.size()), c, file_errors);
        else
            errors.push_back(err);  // read_all's messages name the path already
        for (const std::string &e : file_errors) errors.push_back(std::string(path) + ": " + e);
    }
    overlay_env(c, errors);
    return c;
}

Settings load_settings() {
    std::vector<std::string> errors;
    Settings s = config_from_file_and_env(kConfigPath, errors);
    for (const std::string &e : errors) fprintf(stderr, "%s\n", e.c_str());
    use_console_settings(s);
    return s;
}

void use_console_settings(const Settings &s) {
    static_assert(int(Records::Off) == int(bf::RecordsChannel::Off) && int(Records::Com2) == int(bf::RecordsChannel::Com2));
    bf::records_configure(bf::RecordsChannel(s.records));
    if (s.verbose) bf::boot_details_print();  // the boot printed a short summary
    if (s.records == Records::Com2 && bf::records_channel() != bf::RecordsChannel::Com2)
        fprintf(stderr, "records: COM2 does not answer: records follow each phase on COM1\n");
    const int online = bf::pool::cores_online();
    const int used = bf::pool::set_threads(s.threads ? s.threads : online);
    if (s.threads > online)
        fprintf(stderr, "threads: %d asked, %d core%s online: using %d\n", s.threads, online, online == 1 ? "" : "s",
                used);
}

void end_phase() {
    fflush(stdout);
    fflush(stderr);
    bf::console_release();
    bf::records_flush();
}

// `config-check FILE`: parses FILE (through bf::vfs) and prints each error, or "config ok".
int run_config_check(const char *path) {
    if (!path) {
        fprintf(stderr, "usage: config-check FILE\n");
        return 2;
    }
    bf::vfs::Bytes text;
    std::string err;
    if (!bf::vfs::read_all(path, kMaxConfigFile, text, err)) {
        printf("config-check: %s\n", err.c_str());
        return 1;
    }
    Settings c;
    std::vector<std::string> errors;
    parse_config(std::string_view(reinterpret_cast<const char *>(text.data()), text.size()), c, errors);
    for (const std::string &e : errors) printf("%s: %s\n", path, e.c_str());
    if (errors.empty()) printf("config ok\n");
    printf("%s", describe(c).c_str());
    return errors.empty() ? 0 : 1;
}

}  // namespace bf::app
