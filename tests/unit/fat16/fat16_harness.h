// The FAT16 unit tests' harness: shell helpers (mkfs.fat, mtools, fsck.fat), a disk image file
// as a BlockDev, raw geometry and FAT access to patch images, and the Fat fixture.
#pragma once
#include "fat16.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <sstream>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace fs = bf::fs;

namespace fat16test {

constexpr int kENOENT = -2, kEIO = -5, kEBADF = -9, kEBUSY = -16, kEEXIST = -17,
              kENOTDIR = -20, kEISDIR = -21, kEINVAL = -22, kENOSPC = -28,
              kENAMETOOLONG = -36, kENOTEMPTY = -39;

inline std::string quote(const std::string &s) {
    std::string r = "'";
    for (char c : s) {
        if (c == '\'') r += "'\\''";
        else r += c;
    }
    return r + "'";
}

// Runs a shell command; returns its output (stdout + stderr).
inline std::string sh(const std::string &cmd, int *rc = nullptr) {
    std::string out;
    FILE *p = popen((cmd + " 2>&1").c_str(), "r");
    if (!p) {
        if (rc) *rc = -1;
        return out;
    }
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    const int st = pclose(p);
    if (rc) *rc = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    return out;
}

inline std::string host_read(const std::string &path) {
    std::string s;
    FILE *f = fopen(path.c_str(), "rb");
    if (!f) return s;
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) s.append(buf, n);
    fclose(f);
    return s;
}

inline void host_write(const std::string &path, const std::string &data) {
    FILE *f = fopen(path.c_str(), "wb");
    ASSERT_TRUE(f) << path;
    ASSERT_EQ(fwrite(data.data(), 1, data.size(), f), data.size());
    fclose(f);
}

inline std::string random_bytes(size_t n, uint32_t seed) {
    std::mt19937 rng(seed);
    std::string s(n, '\0');
    for (auto &c : s) c = char(rng());
    return s;
}

// A disk image file as a BlockDev, with bounds checks and an optional log of the requests.
struct Disk {
    int fd = -1;
    uint64_t sectors = 0;
    int out_of_bounds = 0;
    bool logging = false;
    struct Op {
        char kind;  // 'r' 'w' 'f'
        uint64_t lba;
        uint32_t n;
    };
    std::vector<Op> log;
    uint64_t fail_writes_from = UINT64_MAX;  // simulate a dead device after N writes
    uint64_t writes = 0;

    explicit Disk(const std::string &path) {
        fd = ::open(path.c_str(), O_RDWR);
        struct stat st{};
        if (fd >= 0 && fstat(fd, &st) == 0) sectors = uint64_t(st.st_size) / 512;
    }
    ~Disk() {
        if (fd >= 0) ::close(fd);
    }
    fs::BlockDev dev() { return fs::BlockDev{this, &rd, &wr, &fl, sectors}; }

    static int rd(void *ctx, uint64_t lba, uint32_t n, void *buf) {
        auto *d = static_cast<Disk *>(ctx);
        if (lba + n > d->sectors || n == 0) {
            d->out_of_bounds++;
            ADD_FAILURE() << "read outside the device: lba " << lba << " n " << n;
            return -5;
        }
        if (d->logging) d->log.push_back({'r', lba, n});
        const ssize_t r = pread(d->fd, buf, size_t(n) * 512, off_t(lba * 512));
        return r == ssize_t(n) * 512 ? 0 : -5;
    }
    static int wr(void *ctx, uint64_t lba, uint32_t n, const void *buf) {
        auto *d = static_cast<Disk *>(ctx);
        if (lba + n > d->sectors || n == 0) {
            d->out_of_bounds++;
            ADD_FAILURE() << "write outside the device: lba " << lba << " n " << n;
            return -5;
        }
        if (d->writes++ >= d->fail_writes_from) return -5;
        if (d->logging) d->log.push_back({'w', lba, n});
        const ssize_t r = pwrite(d->fd, buf, size_t(n) * 512, off_t(lba * 512));
        return r == ssize_t(n) * 512 ? 0 : -5;
    }
    static int fl(void *ctx) {
        auto *d = static_cast<Disk *>(ctx);
        if (d->logging) d->log.push_back({'f', 0, 0});
        return 0;
    }
};

// Geometry read back from an image, to patch and inspect it independently of the engine.
struct Geo {
    uint32_t spc, res, nfats, fatsz, root_entries, root_lba, data_lba, cluster_bytes;
};

inline Geo geo_of(const std::string &img) {
    std::string b = host_read(img).substr(0, 512);
    auto u16 = [&](int o) { return uint32_t(uint8_t(b[o]) | (uint8_t(b[o + 1]) << 8)); };
    Geo g{};
    g.spc = uint8_t(b[13]);
    g.res = u16(14);
    g.nfats = uint8_t(b[16]);
    g.root_entries = u16(17);
    g.fatsz = u16(22);
    g.root_lba = g.res + g.nfats * g.fatsz;
    g.data_lba = g.root_lba + g.root_entries / 16;
    g.cluster_bytes = g.spc * 512;
    return g;
}

inline void patch(const std::string &img, uint64_t off, const void *data, size_t n) {
    int fd = ::open(img.c_str(), O_RDWR);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(pwrite(fd, data, n, off_t(off)), ssize_t(n));
    ::close(fd);
}

inline uint16_t fat_entry(const std::string &img, uint32_t c, uint32_t copy = 0) {
    const Geo g = geo_of(img);
    int fd = ::open(img.c_str(), O_RDONLY);
    uint16_t v = 0;
    EXPECT_EQ(pread(fd, &v, 2, off_t((g.res + copy * g.fatsz) * 512ull + c * 2)), 2);
    ::close(fd);
    return v;
}

inline void set_fat_entry(const std::string &img, uint32_t c, uint16_t v) {
    const Geo g = geo_of(img);
    for (uint32_t copy = 0; copy < g.nfats; copy++)
        patch(img, (g.res + copy * g.fatsz) * 512ull + c * 2, &v, 2);
}

class Fat : public ::testing::Test {
  protected:
    std::string dir, img;
    std::unique_ptr<Disk> disk;
    std::unique_ptr<fs::Volume> vol = std::make_unique<fs::Volume>();

    void SetUp() override {
        char tmpl[] = "/tmp/fat16_test.XXXXXX";
        ASSERT_TRUE(mkdtemp(tmpl));
        dir = tmpl;
        img = dir + "/disk.img";
    }
    void TearDown() override {
        if (disk) {
            EXPECT_EQ(disk->out_of_bounds, 0);
        }
        disk.reset();
        std::filesystem::remove_all(dir);
    }

    void mkfs(uint32_t kib, const std::string &opts = "-F 16") {
        int rc;
        std::string out = sh("mkfs.fat " + opts + " -C " + quote(img) + " " + std::to_string(kib), &rc);
        ASSERT_EQ(rc, 0) << out;
    }
    int mount() {
        disk = std::make_unique<Disk>(img);
        return vol->mount(disk->dev());
    }
    void mkfs_mount(uint32_t kib = 16384, const std::string &opts = "-F 16") {
        mkfs(kib, opts);
        ASSERT_EQ(mount(), 0) << vol->last_error();
    }
    // Unmount-equivalent: everything on disk, clean bit set.
    void sync() { ASSERT_EQ(vol->sync_all(), 0) << vol->last_error(); }

    void fsck_clean() {
        int rc;
        std::string out = sh("fsck.fat -n " + quote(img), &rc);
        EXPECT_EQ(rc, 0) << out;
        // Only the version line and the summary line.
        EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 2) << out;
    }

    void mcopy_in(const std::string &data, const std::string &dos) {
        const std::string h = dir + "/in.bin";
        host_write(h, data);
        int rc;
        std::string out = sh("mcopy -i " + quote(img) + " " + quote(h) + " " + quote("::" + dos), &rc);
        ASSERT_EQ(rc, 0) << out;
    }
    std::string mcopy_out(const std::string &dos) {
        const std::string h = dir + "/out.bin";
        std::filesystem::remove(h);
        int rc;
        std::string out =
            sh("mcopy -n -i " + quote(img) + " " + quote("::" + dos) + " " + quote(h), &rc);
        EXPECT_EQ(rc, 0) << dos << ": " << out;
        return host_read(h);
    }
    // Byte-identical check through mtools: mcopy out to a host file, then cmp.
    void expect_mtools_has(const std::string &dos, const std::string &data) {
        const std::string want = dir + "/want.bin", got = dir + "/got.bin";
        host_write(want, data);
        std::filesystem::remove(got);
        int rc;
        std::string out =
            sh("mcopy -n -i " + quote(img) + " " + quote("::" + dos) + " " + quote(got), &rc);
        ASSERT_EQ(rc, 0) << dos << ": " << out;
        out = sh("cmp " + quote(want) + " " + quote(got), &rc);
        EXPECT_EQ(rc, 0) << dos << ": " << out;
    }
    std::string mdir(const std::string &args) { return sh("mdir -i " + quote(img) + " " + args); }

    // Engine helpers.
    int put(const std::string &path, const std::string &data, int flags = fs::kCreat | fs::kTrunc | fs::kWrOnly) {
        fs::File f{};
        int r = vol->open(path.c_str(), flags, &f);
        if (r) return r;
        int64_t w = vol->write(&f, 0, data.data(), data.size());
        int c = vol->close(&f);
        if (w < 0) return int(w);
        if (size_t(w) != data.size()) return -1000;
        return c;
    }
    std::string get(const std::string &path, int *err = nullptr) {
        fs::File f{};
        int r = vol->open(path.c_str(), fs::kRdOnly, &f);
        if (err) *err = r;
        if (r) return "<open " + std::to_string(r) + ">";
        std::string s(f.size, '\0');
        int64_t n = vol->read(&f, 0, s.data(), s.size());
        vol->close(&f);
        if (n < 0) {
            if (err) *err = int(n);
            return "<read " + std::to_string(n) + ">";
        }
        s.resize(size_t(n));
        return s;
    }
    std::vector<std::string> list(const std::string &path) {
        std::vector<std::string> names;
        fs::File d{};
        EXPECT_EQ(vol->open(path.c_str(), fs::kRdOnly | fs::kDirectory, &d), 0) << vol->last_error();
        uint64_t cookie = 0;
        fs::DirEntry e;
        int r;
        while ((r = vol->readdir(&d, &cookie, &e)) == 1) names.push_back(e.name);
        EXPECT_EQ(r, 0) << vol->last_error();
        vol->close(&d);
        return names;
    }
    // FAT copies byte-identical on disk.
    void expect_fats_equal() {
        const Geo g = geo_of(img);
        std::string s = host_read(img);
        ASSERT_EQ(g.nfats, 2u);
        EXPECT_TRUE(s.compare(g.res * 512, g.fatsz * 512, s, (g.res + g.fatsz) * 512, g.fatsz * 512) == 0)
            << "FAT copies differ";
    }
};

}  // namespace fat16test
