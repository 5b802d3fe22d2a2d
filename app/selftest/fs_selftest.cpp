// `bareflow fs-selftest`: file I/O through bf::vfs: directories, a 1 MiB file with a known pattern
// (byte i = (i * 131) ^ (i >> 9)), a long file name, an atomic replace, a rename, an unlink and a
// listing. Deterministic "fs:" lines: bare metal (FAT16 on the boot disk) and hosted (the same
// FAT16 code on the image file) must print the same, and tests/boot/fs.test checks the image
// afterwards with fsck.fat and mtools.
#include "selftest.h"

#include "bareflow/vfs.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace bf::app {

namespace {

int failures;

void check(bool ok, const char *what) {
    std::printf("fs-selftest: %-44s %s\n", what, ok ? "ok" : "FAILED");
    if (!ok) failures++;
}

std::vector<unsigned char> pattern(size_t n) {
    std::vector<unsigned char> v(n);
    for (size_t i = 0; i < n; i++) v[i] = static_cast<unsigned char>((i * 131) ^ (i >> 9));
    return v;
}

bool write_file(const char *path, const void *data, size_t n) {
    FILE *f = bf::vfs::fopen(path, "wb");
    if (!f) return false;
    bool ok = std::fwrite(data, 1, n, f) == n;
    return std::fclose(f) == 0 && ok;
}

bool read_file(const char *path, std::vector<unsigned char> &out) {
    FILE *f = bf::vfs::fopen(path, "rb");
    if (!f) return false;
    out.clear();
    unsigned char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.insert(out.end(), buf, buf + n);
    std::fclose(f);
    return true;
}

}  // namespace

int run_fs_selftest() {
    int r = bf::vfs::mkdir("/TEST");
    check(r == 0 || r == -EEXIST, "mkdir /TEST");
    check(bf::vfs::mkdir("/TEST") == -EEXIST, "mkdir of an existing directory gives EEXIST");
    std::string deep = "/TEST";
    bool deep_ok = true;
    for (int i = 0; i < 8; i++) {
        deep += "/level" + std::to_string(i);
        int m = bf::vfs::mkdir(deep.c_str());
        deep_ok &= m == 0 || m == -EEXIST;
    }
    check(deep_ok, "8 nested directories");
    check(write_file((deep + "/leaf.txt").c_str(), "deep\n", 5), "a file 9 levels down");

    auto big = pattern(1048576 + 123);
    check(write_file("/TEST/PATTERN.BIN", big.data(), big.size()), "write 1 MiB + 123 bytes");
    std::vector<unsigned char> back;
    check(read_file("/TEST/PATTERN.BIN", back) && back == big, "read it back, byte for byte");

    const char *text = "BareFlow wrote this file with a long name.\n";
    check(write_file("/TEST/Long File Name Test.txt", text, std::strlen(text)), "long file name");
    check(read_file("/test/long file name test.TXT", back) &&
              std::string(back.begin(), back.end()) == text,
          "names match case-insensitively");

    check(bf::vfs::write_atomic("/TEST/config.txt", "version 1\n", 10) == 0, "atomic write");
    check(bf::vfs::write_atomic("/TEST/config.txt", "version 2\n", 10) == 0, "atomic replace");
    check(read_file("/TEST/config.txt", back) && std::string(back.begin(), back.end()) == "version 2\n",
          "replaced content");

    check(write_file("/TEST/old.txt", "rename me\n", 10), "write old.txt");
    check(bf::vfs::rename("/TEST/old.txt", "/TEST/renamed.txt") == 0, "rename");
    uint64_t size = 0;
    bool dir = false;
    check(bf::vfs::stat_size("/TEST/old.txt", &size, &dir) == -ENOENT, "the old name is gone");
    check(write_file("/TEST/gone.txt", "x", 1) && bf::vfs::unlink("/TEST/gone.txt") == 0, "unlink");
    check(!bf::vfs::fopen("/TEST/missing.txt", "rb") && errno == ENOENT, "missing file: ENOENT");

    struct Listing { std::vector<std::string> lines; } listing;
    bf::vfs::list("/TEST", [](const char *name, bool d, uint64_t sz, void *ctx) {
        static_cast<Listing *>(ctx)->lines.push_back(std::string(name) + (d ? "/" : " " + std::to_string(sz)));
    }, &listing);
    for (const auto &l : listing.lines) std::printf("fs-selftest: /TEST: %s\n", l.c_str());

    check(bf::vfs::sync() == 0, "sync");
    std::printf("fs-selftest: %s (%d failed)\n", failures ? "FAILED" : "all passed", failures);
    return failures ? 1 : 0;
}

}  // namespace bf::app
