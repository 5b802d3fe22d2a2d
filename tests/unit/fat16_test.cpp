// Unit tests of the FAT16 engine against the real tools: images come from mkfs.fat, files are
// put in and taken out with mtools, and every image we write to must pass `fsck.fat -n`.
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

// The engine must be usable as a global without a constructor running before main.
constinit fs::Volume g_static_volume;

namespace {

constexpr int kENOENT = -2, kEIO = -5, kEBADF = -9, kEBUSY = -16, kEEXIST = -17,
              kENOTDIR = -20, kEISDIR = -21, kEINVAL = -22, kENOSPC = -28,
              kENAMETOOLONG = -36, kENOTEMPTY = -39;

std::string quote(const std::string &s) {
    std::string r = "'";
    for (char c : s) {
        if (c == '\'') r += "'\\''";
        else r += c;
    }
    return r + "'";
}

// Runs a shell command; returns its output (stdout + stderr).
std::string sh(const std::string &cmd, int *rc = nullptr) {
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

std::string host_read(const std::string &path) {
    std::string s;
    FILE *f = fopen(path.c_str(), "rb");
    if (!f) return s;
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) s.append(buf, n);
    fclose(f);
    return s;
}

void host_write(const std::string &path, const std::string &data) {
    FILE *f = fopen(path.c_str(), "wb");
    ASSERT_TRUE(f) << path;
    ASSERT_EQ(fwrite(data.data(), 1, data.size(), f), data.size());
    fclose(f);
}

std::string random_bytes(size_t n, uint32_t seed) {
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

Geo geo_of(const std::string &img) {
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

void patch(const std::string &img, uint64_t off, const void *data, size_t n) {
    int fd = ::open(img.c_str(), O_RDWR);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(pwrite(fd, data, n, off_t(off)), ssize_t(n));
    ::close(fd);
}

uint16_t fat_entry(const std::string &img, uint32_t c, uint32_t copy = 0) {
    const Geo g = geo_of(img);
    int fd = ::open(img.c_str(), O_RDONLY);
    uint16_t v = 0;
    EXPECT_EQ(pread(fd, &v, 2, off_t((g.res + copy * g.fatsz) * 512ull + c * 2)), 2);
    ::close(fd);
    return v;
}

void set_fat_entry(const std::string &img, uint32_t c, uint16_t v) {
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

// ---- mount ----------------------------------------------------------------------------------

TEST_F(Fat, SizeOfVolume) {
    std::printf("sizeof(bf::fs::Volume) = %zu bytes (%.1f KiB)\n", sizeof(fs::Volume),
                sizeof(fs::Volume) / 1024.0);
    EXPECT_LT(sizeof(fs::Volume), 400u * 1024);
}

TEST_F(Fat, MountsMkfsImage) {
    mkfs_mount(16384);
    EXPECT_TRUE(vol->mounted());
    EXPECT_EQ(vol->cluster_bytes(), geo_of(img).cluster_bytes);
    // Free space as mtools reports it.
    std::string out = mdir("::/");
    auto pos = out.find("bytes free");
    ASSERT_NE(pos, std::string::npos) << out;
    std::string num;
    for (size_t i = out.rfind('\n', pos) + 1; i < pos; i++)
        if (isdigit(uint8_t(out[i]))) num += out[i];
    EXPECT_EQ(vol->free_bytes(), std::stoull(num));
    EXPECT_TRUE(list("/").empty());
    fs::Stat st;
    ASSERT_EQ(vol->stat("/", &st), 0);
    EXPECT_TRUE(st.dir);
}

TEST_F(Fat, MountsVariousClusterSizes) {
    for (auto [kib, spc] : {std::pair{4096u, 1u}, {65536u, 8u}, {140000u, 64u}, {300000u, 128u}}) {
        SCOPED_TRACE("spc " + std::to_string(spc));
        std::filesystem::remove(img);
        mkfs(kib, "-F 16 -s " + std::to_string(spc));
        ASSERT_EQ(mount(), 0) << vol->last_error();
        EXPECT_EQ(vol->cluster_bytes(), spc * 512);
        const std::string data = random_bytes(vol->cluster_bytes() * 2 + 777, spc);
        ASSERT_EQ(put("/multi.bin", data), 0) << vol->last_error();
        ASSERT_EQ(vol->mkdir("/sub"), 0);
        ASSERT_EQ(put("/sub/x.txt", "hello"), 0);
        EXPECT_EQ(get("/multi.bin"), data);
        sync();
        fsck_clean();
        expect_mtools_has("/multi.bin", data);
        expect_mtools_has("/sub/x.txt", "hello");
    }
}

// ---- reading what mtools wrote ----------------------------------------------------------------

TEST_F(Fat, ReadsFileWrittenByMcopy) {
    mkfs(16384);
    const std::string data = random_bytes(300000, 1);
    mcopy_in(data, "/DATA.BIN");
    ASSERT_EQ(mount(), 0);
    EXPECT_EQ(get("/DATA.BIN"), data);
    EXPECT_EQ(get("/data.bin"), data);  // case-insensitive
    fs::File f{};
    ASSERT_EQ(vol->open("/data.bin", fs::kRdOnly, &f), 0);
    EXPECT_EQ(f.size, data.size());
    std::mt19937 rng(7);
    for (int i = 0; i < 200; i++) {
        const uint64_t off = rng() % (data.size() + 100), n = rng() % 9000;
        std::string buf(n, '\0');
        const int64_t r = vol->read(&f, off, buf.data(), n);
        const uint64_t want = off >= data.size() ? 0 : std::min<uint64_t>(n, data.size() - off);
        ASSERT_EQ(r, int64_t(want));
        EXPECT_EQ(buf.substr(0, want), data.substr(std::min<uint64_t>(off, data.size()), want));
    }
    vol->close(&f);
}

TEST_F(Fat, ReadsLongNamesWrittenByMtools) {
    mkfs(16384);
    const std::string long200(200, 'x');
    const std::vector<std::pair<std::string, std::string>> files = {
        {"A long name.txt", "one"},
        {"Ünïcödé-файл.bin", "two"},
        {"lower.txt", "three"},  // mtools: 8.3 with lower-case flags, no long name
        {"UPPER.TXT", "four"},
        {long200 + ".dat", "five"},
    };  // (mtools 4.0.32 cannot write characters outside the BMP: see EmojiNameRoundTrips)
    for (auto &[n, d] : files) mcopy_in(d, "/" + n);
    ASSERT_EQ(mount(), 0);
    auto names = list("/");
    std::set<std::string> got(names.begin(), names.end());
    for (auto &[n, d] : files) {
        EXPECT_TRUE(got.count(n)) << n;
        EXPECT_EQ(get("/" + n), d) << n;
    }
    EXPECT_EQ(get("/a LONG name.TXT"), "one");
    EXPECT_EQ(get("/ALONGN~1.TXT"), "one");  // by its short name
    EXPECT_EQ(get("/ÜNÏCÖD~1.BIN"), "two");  // a short name in code page 850, as mtools writes it
    EXPECT_EQ(get("/ünïcödé-ФАЙЛ.bin").substr(0, 1), "<");  // Cyrillic is not case-folded
    EXPECT_EQ(get("/ÜNÏCÖDÉ-файл.BIN"), "two");             // Latin-1 is
}

TEST_F(Fat, FragmentedFileFromMtools) {
    mkfs(16384);  // 2 KiB clusters
    const Geo g = geo_of(img);
    const std::string a = random_bytes(10 * g.cluster_bytes, 11), b = random_bytes(10 * g.cluster_bytes, 12),
                      c = random_bytes(10 * g.cluster_bytes, 13), big = random_bytes(25 * g.cluster_bytes + 5, 14);
    mcopy_in(a, "/A.BIN");
    mcopy_in(b, "/B.BIN");
    mcopy_in(c, "/C.BIN");
    ASSERT_EQ(sh("mdel -i " + quote(img) + " ::/B.BIN"), "");
    mcopy_in(big, "/BIG.BIN");
    ASSERT_EQ(mount(), 0);
    fs::Stat st;
    ASSERT_EQ(vol->stat("/BIG.BIN", &st), 0);
    // The chain really has a hole: not every link is cluster + 1.
    int jumps = 0;
    for (uint32_t cl = st.first_cluster, i = 0; i < 40; i++) {
        uint16_t nx = fat_entry(img, cl);
        if (nx >= 0xFFF8) break;
        if (nx != cl + 1) jumps++;
        cl = nx;
    }
    EXPECT_GE(jumps, 1);
    EXPECT_EQ(get("/BIG.BIN"), big);
    EXPECT_EQ(get("/A.BIN"), a);
    EXPECT_EQ(get("/C.BIN"), c);
    // Append through the engine, across the fragments.
    fs::File f{};
    ASSERT_EQ(vol->open("/BIG.BIN", fs::kWrOnly, &f), 0);
    const std::string more = random_bytes(7 * g.cluster_bytes, 15);
    ASSERT_EQ(vol->write(&f, big.size(), more.data(), more.size()), int64_t(more.size()));
    ASSERT_EQ(vol->close(&f), 0);
    sync();
    fsck_clean();
    expect_mtools_has("/BIG.BIN", big + more);
}

TEST_F(Fat, InterleavedWritesFragmentAndReadBack) {
    mkfs_mount(16384);
    fs::File f1{}, f2{};
    ASSERT_EQ(vol->open("/one.bin", fs::kCreat | fs::kRdWr, &f1), 0);
    ASSERT_EQ(vol->open("/two.bin", fs::kCreat | fs::kRdWr, &f2), 0);
    std::string d1, d2;
    for (int i = 0; i < 40; i++) {
        std::string c1 = random_bytes(1500 + i * 13, 100 + i), c2 = random_bytes(2100 + i * 7, 200 + i);
        ASSERT_EQ(vol->write(&f1, d1.size(), c1.data(), c1.size()), int64_t(c1.size()));
        ASSERT_EQ(vol->write(&f2, d2.size(), c2.data(), c2.size()), int64_t(c2.size()));
        d1 += c1;
        d2 += c2;
    }
    ASSERT_EQ(vol->close(&f1), 0);
    ASSERT_EQ(vol->close(&f2), 0);
    EXPECT_EQ(get("/one.bin"), d1);
    EXPECT_EQ(get("/two.bin"), d2);
    sync();
    fsck_clean();
    expect_mtools_has("/one.bin", d1);
    expect_mtools_has("/two.bin", d2);
}

// ---- long names written by us ------------------------------------------------------------------

TEST_F(Fat, LongNamesWrittenByUsReadByMtools) {
    mkfs_mount(16384);
    std::vector<std::string> names = {
        "longfilename1.bin", "longfilename2.bin", "Mixed Case Name.Data", "ünïcode ñame.txt",
        "hello.txt",         "a.b.c.d",           ".hidden",              "spaces in name",
        "x+y=z;(1),2.txt",   "UPPER.TXT",         std::string(255, 'L'),
    };  // (no '[' ']': mcopy takes them as wildcards)
    for (size_t i = 0; i < names.size(); i++)
        ASSERT_EQ(put("/" + names[i], "content " + std::to_string(i)), 0)
            << names[i] << ": " << vol->last_error();
    sync();
    fsck_clean();
    std::string bare = mdir("-b ::/");
    for (size_t i = 0; i < names.size(); i++) {
        EXPECT_NE(bare.find("::/" + names[i] + "\n"), std::string::npos) << names[i] << "\n" << bare;
        expect_mtools_has("/" + names[i], "content " + std::to_string(i));
    }
    // Generated short names with numeric tails, as mtools shows them.
    std::string full = mdir("::/");
    EXPECT_NE(full.find("LONGFI~1 BIN"), std::string::npos) << full;
    EXPECT_NE(full.find("LONGFI~2 BIN"), std::string::npos) << full;
    EXPECT_NE(full.find("HELLO    TXT"), std::string::npos) << full;  // fits 8.3: no tail
    // And our own listing.
    auto got = list("/");
    for (auto &n : names) EXPECT_NE(std::find(got.begin(), got.end(), n), got.end()) << n;
}

TEST_F(Fat, EmojiNameRoundTrips) {
    mkfs_mount(16384);
    const std::string n = "emoji-\xF0\x9F\x98\x80 \xE2\x82\xAC.txt";  // a surrogate pair and U+20AC
    ASSERT_EQ(put("/" + n, "smile"), 0);
    sync();
    fsck_clean();
    ASSERT_EQ(mount(), 0);
    EXPECT_EQ(list("/"), std::vector<std::string>{n});
    EXPECT_EQ(get("/" + n), "smile");
    EXPECT_EQ(get("/EMOJI-\xF0\x9F\x98\x80 \xE2\x82\xAC.TXT"), "smile");
}

TEST_F(Fat, ManyShortNameTails) {
    mkfs_mount(16384);
    for (int i = 0; i < 30; i++)
        ASSERT_EQ(put("/a very long file name " + std::to_string(i) + ".txt", std::to_string(i)), 0)
            << vol->last_error();
    sync();
    fsck_clean();
    std::string full = mdir("::/");
    EXPECT_NE(full.find("AVERYL~9 TXT"), std::string::npos) << full;
    EXPECT_NE(full.find("AVERY~10 TXT"), std::string::npos) << full;
    EXPECT_NE(full.find("AVERY~30 TXT"), std::string::npos) << full;
    for (int i = 0; i < 30; i++)
        EXPECT_EQ(mcopy_out("/a very long file name " + std::to_string(i) + ".txt"), std::to_string(i));
}

TEST_F(Fat, NameRules) {
    mkfs_mount(16384);
    fs::File f{};
    EXPECT_EQ(vol->open(("/" + std::string(256, 'n')).c_str(), fs::kCreat | fs::kWrOnly, &f), kENAMETOOLONG);
    EXPECT_EQ(vol->open(("/" + std::string(256, 'n')).c_str(), fs::kRdOnly, &f), kENAMETOOLONG);
    for (const char *bad : {"/a*b", "/a?b", "/a<b", "/a>b", "/a:b", "/a|b", "/a\"b", "/a\\b",
                            "/trailing.", "/trailing ", "/...", "/ctl\x01"}) {
        EXPECT_EQ(vol->open(bad, fs::kCreat | fs::kWrOnly, &f), kEINVAL) << bad;
        EXPECT_EQ(vol->mkdir(bad), kEINVAL) << bad;
    }
    EXPECT_EQ(vol->open("/bad\xff", fs::kCreat | fs::kWrOnly, &f), kEINVAL);  // not UTF-8
    ASSERT_EQ(put("/" + std::string(255, 'n'), "max"), 0);
    EXPECT_EQ(get("/" + std::string(255, 'N')), "max");
    sync();
    fsck_clean();
}

// ---- directories ---------------------------------------------------------------------------------

TEST_F(Fat, DeepDirectoriesByUsReadByMtools) {
    mkfs_mount(16384);
    std::string path;
    for (int i = 1; i <= 20; i++) {
        path += "/level" + std::to_string(i) + " dir";
        ASSERT_EQ(vol->mkdir(path.c_str()), 0) << path << ": " << vol->last_error();
    }
    const std::string data = random_bytes(5000, 3);
    ASSERT_EQ(put(path + "/deep file.bin", data), 0);
    EXPECT_EQ(get(path + "/deep file.bin"), data);
    sync();
    fsck_clean();
    expect_mtools_has(path + "/deep file.bin", data);
    std::string tree = mdir("-/ -b ::/");
    EXPECT_NE(tree.find("::" + path + "/deep file.bin"), std::string::npos) << tree;
    // "." and ".." in every level, ".." leading back up.
    auto names = list(path);
    EXPECT_EQ(names, (std::vector<std::string>{".", "..", "deep file.bin"}));
    EXPECT_EQ(get(path + "/../level20 dir/./deep file.bin"), data);
}

TEST_F(Fat, DeepDirectoriesByMtoolsReadByUs) {
    mkfs(16384);
    std::string path, args;
    for (int i = 1; i <= 20; i++) {
        path += "/Sub Dir " + std::to_string(i);
        args += " " + quote("::" + path);
    }
    int rc;
    std::string out = sh("mmd -i " + quote(img) + args, &rc);
    ASSERT_EQ(rc, 0) << out;
    const std::string data = random_bytes(12345, 4);
    mcopy_in(data, path + "/file.bin");
    ASSERT_EQ(mount(), 0);
    EXPECT_EQ(get(path + "/file.bin"), data);
    std::string p;
    for (int i = 1; i <= 20; i++) {
        auto names = list(p.empty() ? "/" : p);
        p += "/Sub Dir " + std::to_string(i);
        if (i > 1) {
            ASSERT_GE(names.size(), 3u);
            EXPECT_EQ(names[0], ".");
            EXPECT_EQ(names[1], "..");
        }
        EXPECT_NE(std::find(names.begin(), names.end(), "Sub Dir " + std::to_string(i)), names.end());
    }
    fs::Stat st;
    ASSERT_EQ(vol->stat(p.c_str(), &st), 0);
    EXPECT_TRUE(st.dir);
    ASSERT_EQ(vol->stat((p + "/FILE.BIN").c_str(), &st), 0);
    EXPECT_EQ(st.size, data.size());
}

TEST_F(Fat, SubdirectoryGrowsAcrossClusters) {
    mkfs_mount(16384, "-F 16 -s 1");  // 512-byte clusters: 16 slots each
    ASSERT_EQ(vol->mkdir("/big"), 0);
    std::set<std::string> want = {".", ".."};
    for (int i = 0; i < 300; i++) {
        std::string n = "entry number " + std::to_string(i) + ".txt";
        ASSERT_EQ(put("/big/" + n, n), 0) << vol->last_error();
        want.insert(n);
    }
    auto got = list("/big");
    EXPECT_EQ(std::set<std::string>(got.begin(), got.end()), want);
    EXPECT_EQ(get("/big/ENTRY NUMBER 299.TXT"), "entry number 299.txt");
    sync();
    fsck_clean();
    expect_mtools_has("/big/entry number 150.txt", "entry number 150.txt");
}

TEST_F(Fat, ReaddirSkipsLabelDeletedAndLfnSlots) {
    mkfs(16384, "-F 16 -n MYLABEL");
    mcopy_in("x", "/keep me.txt");
    mcopy_in("y", "/delete me.txt");
    mcopy_in("z", "/KEEP2.TXT");
    sh("mdel -i " + quote(img) + " '::/delete me.txt'");
    ASSERT_EQ(mount(), 0);
    EXPECT_EQ(list("/"), (std::vector<std::string>{"keep me.txt", "KEEP2.TXT"}));
    // The label is not a file name: a file may have the same name.
    ASSERT_EQ(put("/MYLABEL", "not the label"), 0) << vol->last_error();
    EXPECT_EQ(get("/mylabel"), "not the label");
    sync();
    fsck_clean();
}

TEST_F(Fat, RmdirAndUnlink) {
    mkfs_mount(16384);
    const uint64_t free0 = vol->free_bytes();
    ASSERT_EQ(vol->mkdir("/d"), 0);
    ASSERT_EQ(vol->mkdir("/d/e"), 0);
    ASSERT_EQ(put("/d/e/f.txt", random_bytes(10000, 5)), 0);
    EXPECT_EQ(vol->rmdir("/d"), kENOTEMPTY);
    EXPECT_EQ(vol->rmdir("/d/e"), kENOTEMPTY);
    EXPECT_EQ(vol->rmdir("/d/e/f.txt"), kENOTDIR);
    EXPECT_EQ(vol->unlink("/d/e"), kEISDIR);
    EXPECT_EQ(vol->rmdir("/"), kEBUSY);
    EXPECT_EQ(vol->rmdir("/d/."), kEINVAL);
    EXPECT_EQ(vol->mkdir("/d"), kEEXIST);
    EXPECT_EQ(vol->mkdir("/nope/x"), kENOENT);
    EXPECT_EQ(vol->unlink("/d/e/missing"), kENOENT);
    ASSERT_EQ(vol->unlink("/d/e/f.txt"), 0);
    EXPECT_EQ(get("/d/e/f.txt").substr(0, 5), "<open");
    ASSERT_EQ(vol->rmdir("/d/e"), 0);
    ASSERT_EQ(vol->rmdir("/d"), 0);
    fs::Stat st;
    EXPECT_EQ(vol->stat("/d", &st), kENOENT);
    EXPECT_EQ(vol->free_bytes(), free0);
    sync();
    fsck_clean();
    EXPECT_EQ(mdir("-b ::/"), "");
}

// ---- errors and open semantics ---------------------------------------------------------------------

TEST_F(Fat, OpenErrors) {
    mkfs_mount(16384);
    fs::File f{};
    ASSERT_EQ(put("/file.txt", "abc"), 0);
    ASSERT_EQ(vol->mkdir("/dir"), 0);
    EXPECT_EQ(vol->open("/missing", fs::kRdOnly, &f), kENOENT);
    EXPECT_EQ(vol->open("/missing/x", fs::kCreat | fs::kWrOnly, &f), kENOENT);
    EXPECT_EQ(vol->open("/file.txt", fs::kCreat | fs::kExcl | fs::kWrOnly, &f), kEEXIST);
    EXPECT_EQ(vol->open("/file.txt/x", fs::kRdOnly, &f), kENOTDIR);
    EXPECT_EQ(vol->open("/file.txt/", fs::kRdOnly, &f), kENOTDIR);
    EXPECT_EQ(vol->open("/file.txt", fs::kRdOnly | fs::kDirectory, &f), kENOTDIR);
    EXPECT_EQ(vol->open("/dir", fs::kWrOnly, &f), kEISDIR);
    EXPECT_EQ(vol->open("/", fs::kRdWr, &f), kEISDIR);
    EXPECT_EQ(vol->open("/new/", fs::kCreat | fs::kWrOnly, &f), kEISDIR);
    ASSERT_EQ(vol->open("/dir", fs::kRdOnly, &f), 0);
    EXPECT_TRUE(f.dir);
    char b[4];
    EXPECT_EQ(vol->read(&f, 0, b, 4), kEISDIR);
    EXPECT_EQ(vol->write(&f, 0, b, 4), kEISDIR);
    vol->close(&f);
    ASSERT_EQ(vol->open("/file.txt", fs::kRdOnly, &f), 0);
    uint64_t cookie = 0;
    fs::DirEntry e;
    EXPECT_EQ(vol->readdir(&f, &cookie, &e), kENOTDIR);
    ASSERT_EQ(vol->close(&f), 0);
    EXPECT_EQ(vol->close(&f), kEBADF);
    EXPECT_EQ(vol->read(&f, 0, b, 1), kEBADF);
    // O_TRUNC and O_EXCL creation.
    ASSERT_EQ(vol->open("/file.txt", fs::kWrOnly | fs::kTrunc, &f), 0);
    EXPECT_EQ(f.size, 0u);
    vol->close(&f);
    ASSERT_EQ(vol->open("/excl.txt", fs::kCreat | fs::kExcl | fs::kWrOnly, &f), 0);
    vol->close(&f);
    fs::Stat st;
    ASSERT_EQ(vol->stat("/file.txt", &st), 0);
    EXPECT_EQ(st.size, 0u);
    EXPECT_EQ(st.first_cluster, 0u);
    // Paths: "." and "..", repeated slashes.
    ASSERT_EQ(vol->stat("//dir/..//./file.txt", &st), 0);
    ASSERT_EQ(vol->stat("/..", &st), 0);
    EXPECT_TRUE(st.dir);
    sync();
    fsck_clean();
}

TEST_F(Fat, TwoOpensStayCoherentAndUnlinkWhileOpen) {
    mkfs_mount(16384);
    fs::File a{}, b{};
    ASSERT_EQ(vol->open("/shared.bin", fs::kCreat | fs::kRdWr, &a), 0);
    ASSERT_EQ(vol->open("/shared.bin", fs::kRdWr, &b), 0);
    const std::string d = random_bytes(9000, 8);
    ASSERT_EQ(vol->write(&a, 0, d.data(), d.size()), int64_t(d.size()));
    std::string buf(d.size(), '\0');
    ASSERT_EQ(vol->read(&b, 0, buf.data(), buf.size()), int64_t(d.size()));
    EXPECT_EQ(buf, d);
    fs::Stat st;
    ASSERT_EQ(vol->fstat(&b, &st), 0);
    EXPECT_EQ(st.size, d.size());
    ASSERT_EQ(vol->truncate(&b, 100), 0);
    ASSERT_EQ(vol->fstat(&a, &st), 0);
    EXPECT_EQ(st.size, 100u);
    ASSERT_EQ(vol->close(&b), 0);
    // Unlinked while open: still readable and writable, space back at the last close.
    const uint64_t free0 = vol->free_bytes();
    ASSERT_EQ(vol->write(&a, 100, d.data(), d.size()), int64_t(d.size()));
    ASSERT_EQ(vol->unlink("/shared.bin"), 0);
    EXPECT_EQ(vol->stat("/shared.bin", &st), kENOENT);
    ASSERT_EQ(put("/shared.bin", "new file, same name"), 0);
    ASSERT_EQ(put("/other.bin", random_bytes(20000, 9)), 0);
    std::string back(d.size(), '\0');
    ASSERT_EQ(vol->read(&a, 100, back.data(), back.size()), int64_t(d.size()));
    EXPECT_EQ(back, d);
    ASSERT_EQ(vol->close(&a), 0);
    EXPECT_EQ(get("/shared.bin"), "new file, same name");
    // A directory cannot go while a file unlinked from it is still open.
    ASSERT_EQ(vol->mkdir("/d"), 0);
    ASSERT_EQ(vol->open("/d/tmp", fs::kCreat | fs::kRdWr, &a), 0);
    ASSERT_EQ(vol->unlink("/d/tmp"), 0);
    EXPECT_EQ(vol->rmdir("/d"), kEBUSY);
    ASSERT_EQ(vol->close(&a), 0);
    ASSERT_EQ(vol->rmdir("/d"), 0);
    ASSERT_EQ(vol->unlink("/other.bin"), 0);
    EXPECT_EQ(vol->free_bytes(), free0);  // shared.bin had 1 cluster then, the new one has 1
    sync();
    fsck_clean();
    expect_mtools_has("/shared.bin", "new file, same name");
}

// ---- writing -------------------------------------------------------------------------------------------

TEST_F(Fat, SparseWriteAndTruncate) {
    mkfs_mount(16384);
    const uint32_t cb = vol->cluster_bytes();
    const uint64_t free0 = vol->free_bytes();
    fs::File f{};
    ASSERT_EQ(vol->open("/sparse.bin", fs::kCreat | fs::kRdWr, &f), 0);
    ASSERT_EQ(vol->write(&f, 100000, "X", 1), 1);
    EXPECT_EQ(f.size, 100001u);
    std::string want(100001, '\0');
    want[100000] = 'X';
    std::string buf(want.size(), '\1');
    ASSERT_EQ(vol->read(&f, 0, buf.data(), buf.size()), int64_t(want.size()));
    EXPECT_EQ(buf, want);
    // Grow with zeros (the stale tail of the last cluster must not show), shrink, grow again.
    const std::string junk = random_bytes(3 * cb, 10);
    ASSERT_EQ(vol->write(&f, 0, junk.data(), junk.size()), int64_t(junk.size()));
    want.replace(0, junk.size(), junk);
    ASSERT_EQ(vol->truncate(&f, 10), 0);
    want.resize(10);
    EXPECT_EQ(vol->free_bytes(), free0 - cb);
    ASSERT_EQ(vol->truncate(&f, 2 * cb + 5), 0);
    want.resize(2 * cb + 5, '\0');
    buf.assign(want.size(), '\1');
    ASSERT_EQ(vol->read(&f, 0, buf.data(), buf.size()), int64_t(want.size()));
    EXPECT_EQ(buf, want);
    ASSERT_EQ(vol->truncate(&f, 0), 0);
    EXPECT_EQ(vol->free_bytes(), free0);
    EXPECT_EQ(f.first_cluster, 0u);
    ASSERT_EQ(vol->write(&f, 5000, "tail", 4), 4);
    want.assign(5000, '\0');
    want += "tail";
    ASSERT_EQ(vol->close(&f), 0);
    EXPECT_EQ(get("/sparse.bin"), want);
    sync();
    fsck_clean();
    expect_mtools_has("/sparse.bin", want);
}

TEST_F(Fat, OverwriteInTheMiddleAndUnalignedWrites) {
    mkfs_mount(16384);
    std::string model = random_bytes(50000, 20);
    ASSERT_EQ(put("/m.bin", model), 0);
    fs::File f{};
    ASSERT_EQ(vol->open("/m.bin", fs::kRdWr, &f), 0);
    std::mt19937 rng(21);
    for (int i = 0; i < 300; i++) {
        const uint64_t off = rng() % 70000, n = rng() % 5000;
        std::string d = random_bytes(n, 1000 + i);
        ASSERT_EQ(vol->write(&f, off, d.data(), n), int64_t(n)) << vol->last_error();
        if (n) {
            if (model.size() < off + n) model.resize(off + n, '\0');
            model.replace(off, n, d);
        }
    }
    ASSERT_EQ(vol->close(&f), 0);
    EXPECT_EQ(get("/m.bin"), model);
    sync();
    fsck_clean();
    expect_mtools_has("/m.bin", model);
}

TEST_F(Fat, ModifiesFilesWrittenByMtools) {
    mkfs(16384);
    const std::string d = random_bytes(70000, 30);
    mcopy_in(d, "/Existing Long Name.bin");
    ASSERT_EQ(mount(), 0);
    fs::File f{};
    ASSERT_EQ(vol->open("/existing long name.bin", fs::kRdWr, &f), 0);
    ASSERT_EQ(vol->write(&f, 69990, "0123456789abcdef", 16), 16);
    ASSERT_EQ(vol->close(&f), 0);
    std::string want = d.substr(0, 69990) + "0123456789abcdef";
    sync();
    fsck_clean();
    expect_mtools_has("/Existing Long Name.bin", want);
}

TEST_F(Fat, FullDiskGivesEnospcAndStaysConsistent) {
    mkfs_mount(4096, "-F 16 -s 1");
    const uint64_t total_free = vol->free_bytes();
    ASSERT_EQ(vol->mkdir("/d"), 0);
    ASSERT_EQ(put("/d/small.txt", "small"), 0);
    fs::File f{};
    ASSERT_EQ(vol->open("/fill.bin", fs::kCreat | fs::kWrOnly, &f), 0);
    std::string all;
    const std::string chunk = random_bytes(65536 + 100, 40);
    int64_t r;
    for (;;) {
        r = vol->write(&f, all.size(), chunk.data(), chunk.size());
        if (r <= 0) break;
        all += chunk.substr(0, size_t(r));
        if (size_t(r) < chunk.size()) break;
    }
    if (r > 0) r = vol->write(&f, all.size(), chunk.data(), chunk.size());
    EXPECT_EQ(r, kENOSPC);
    EXPECT_NE(std::string(vol->last_error()).find("space"), std::string::npos) << vol->last_error();
    EXPECT_EQ(vol->free_bytes(), 0u);
    EXPECT_EQ(all.size(), total_free - 2 * 512);  // the directory and small.txt have a cluster each
    EXPECT_EQ(vol->write(&f, all.size() + 5000, "x", 1), kENOSPC);  // sparse beyond: nothing
    EXPECT_EQ(vol->truncate(&f, all.size() + 5000), kENOSPC);
    ASSERT_EQ(vol->close(&f), 0);
    EXPECT_EQ(vol->mkdir("/another"), kENOSPC);
    EXPECT_EQ(put("/empty.txt", ""), 0);  // entries need no clusters in the root
    EXPECT_EQ(put("/one.txt", "1"), kENOSPC);
    // A subdirectory that must grow cannot: /d has 16 slots, ".", "..", small.txt (2) used.
    for (int i = 0; i < 12; i++) EXPECT_EQ(put("/d/F" + std::to_string(i), ""), 0) << i;
    fs::File g{};
    EXPECT_EQ(vol->open("/d/X", fs::kCreat | fs::kWrOnly, &g), kENOSPC);
    sync();
    fsck_clean();
    EXPECT_EQ(get("/fill.bin"), all);
    expect_mtools_has("/fill.bin", all);
    expect_mtools_has("/d/small.txt", "small");
    ASSERT_EQ(vol->unlink("/fill.bin"), 0);
    EXPECT_EQ(vol->free_bytes(), all.size());
    sync();
    fsck_clean();
}

TEST_F(Fat, FullRootDirectory) {
    mkfs_mount(16384);
    int made = 0, r = 0;
    for (int i = 0; i < 600; i++) {
        char name[32];
        std::snprintf(name, sizeof name, "/F%03d.TXT", i);
        fs::File f{};
        r = vol->open(name, fs::kCreat | fs::kWrOnly, &f);
        if (r) break;
        vol->close(&f);
        made++;
    }
    EXPECT_EQ(made, 512);
    EXPECT_EQ(r, kENOSPC);
    EXPECT_NE(std::string(vol->last_error()).find("root directory is full"), std::string::npos)
        << vol->last_error();
    EXPECT_EQ(vol->mkdir("/newdir"), kENOSPC);
    EXPECT_EQ(list("/").size(), 512u);
    // Deleting one entry makes room for one short name, not for a long one.
    ASSERT_EQ(vol->unlink("/F100.TXT"), 0);
    fs::File f{};
    EXPECT_EQ(vol->open("/a long name.txt", fs::kCreat | fs::kWrOnly, &f), kENOSPC);
    ASSERT_EQ(vol->open("/NEW.TXT", fs::kCreat | fs::kWrOnly, &f), 0);
    vol->close(&f);
    sync();
    fsck_clean();
}

// ---- rename -------------------------------------------------------------------------------------------

TEST_F(Fat, RenameReplacesExistingFile) {
    mkfs_mount(16384);
    const uint32_t cb = vol->cluster_bytes();
    const std::string a = random_bytes(5 * cb, 50), b = random_bytes(7 * cb, 51);
    ASSERT_EQ(put("/a.txt", a), 0);
    ASSERT_EQ(put("/b.txt", b), 0);
    const uint64_t free0 = vol->free_bytes();
    ASSERT_EQ(vol->rename("/a.txt", "/b.txt"), 0) << vol->last_error();
    EXPECT_EQ(get("/b.txt"), a);
    fs::Stat st;
    EXPECT_EQ(vol->stat("/a.txt", &st), kENOENT);
    EXPECT_EQ(vol->free_bytes(), free0 + 7 * cb);
    sync();
    fsck_clean();
    expect_mtools_has("/b.txt", a);
    EXPECT_EQ(mdir("-b ::/"), "::/b.txt\n");
}

TEST_F(Fat, RenameVariants) {
    mkfs_mount(16384);
    ASSERT_EQ(vol->mkdir("/src"), 0);
    ASSERT_EQ(vol->mkdir("/src/inner"), 0);
    ASSERT_EQ(put("/src/inner/deep.txt", "deep"), 0);
    ASSERT_EQ(vol->mkdir("/dst"), 0);
    ASSERT_EQ(put("/f.txt", "file"), 0);
    // File to a long name in another directory, and back with a different case.
    ASSERT_EQ(vol->rename("/f.txt", "/dst/A much longer name.text"), 0) << vol->last_error();
    EXPECT_EQ(get("/dst/a much longer name.TEXT"), "file");
    ASSERT_EQ(vol->rename("/dst/A much longer name.text", "/F.TXT"), 0);
    EXPECT_EQ(list("/"), (std::vector<std::string>{"src", "dst", "F.TXT"}));
    // Case-only rename of the same entry.
    ASSERT_EQ(vol->rename("/F.TXT", "/f.txt"), 0);
    EXPECT_EQ(list("/"), (std::vector<std::string>{"src", "dst", "f.txt"}));
    ASSERT_EQ(vol->rename("/f.txt", "/f.txt"), 0);
    // A directory moves with its contents; its ".." follows (fsck checks it).
    ASSERT_EQ(vol->rename("/src", "/dst/moved"), 0) << vol->last_error();
    EXPECT_EQ(get("/dst/moved/inner/deep.txt"), "deep");
    EXPECT_EQ(get("/dst/moved/inner/../../moved/inner/deep.txt"), "deep");
    // Errors.
    EXPECT_EQ(vol->rename("/dst", "/dst/moved/inner/x"), kEINVAL);
    EXPECT_EQ(vol->rename("/dst", "/dst/x"), kEINVAL);
    EXPECT_EQ(vol->rename("/f.txt", "/dst"), kEISDIR);
    EXPECT_EQ(vol->rename("/dst", "/f.txt"), kENOTDIR);
    EXPECT_EQ(vol->rename("/missing", "/x"), kENOENT);
    EXPECT_EQ(vol->rename("/f.txt", "/nodir/x"), kENOENT);
    EXPECT_EQ(vol->rename("/", "/x"), kEBUSY);
    ASSERT_EQ(vol->mkdir("/empty"), 0);
    EXPECT_EQ(vol->rename("/empty", "/dst"), kENOTEMPTY);
    ASSERT_EQ(vol->rename("/dst/moved/inner", "/empty"), 0);  // replaces an empty directory
    EXPECT_EQ(get("/empty/deep.txt"), "deep");
    fs::File f{};
    ASSERT_EQ(vol->open("/f.txt", fs::kRdOnly, &f), 0);
    EXPECT_EQ(vol->rename("/f.txt", "/g.txt"), kEBUSY);  // open files are not moved
    vol->close(&f);
    sync();
    fsck_clean();
    expect_mtools_has("/empty/deep.txt", "deep");
    expect_mtools_has("/f.txt", "file");
}

// ---- crash-safety ordering -------------------------------------------------------------------------

TEST_F(Fat, WriteOrderDataThenFatThenEntry) {
    mkfs_mount(16384);
    const Geo g = geo_of(img);
    ASSERT_EQ(put("/warm.txt", "x"), 0);  // the clean bit is already cleared
    fs::File f{};
    ASSERT_EQ(vol->open("/order.bin", fs::kCreat | fs::kWrOnly, &f), 0);
    disk->logging = true;
    const std::string d = random_bytes(10 * g.cluster_bytes, 60);
    ASSERT_EQ(vol->write(&f, 0, d.data(), d.size()), int64_t(d.size()));
    ASSERT_EQ(vol->sync(&f), 0);
    disk->logging = false;
    int last_data = -1, first_fat = -1, last_fat = -1, first_dir = -1;
    bool flush_between = false;
    for (int i = 0; i < int(disk->log.size()); i++) {
        auto &op = disk->log[i];
        if (op.kind == 'f' && last_data >= 0 && first_fat < 0) flush_between = true;
        if (op.kind != 'w') continue;
        if (op.lba >= g.data_lba) last_data = i;
        else if (op.lba >= g.root_lba) { if (first_dir < 0) first_dir = i; }
        else if (op.lba >= g.res) { if (first_fat < 0) first_fat = i; last_fat = i; }
    }
    ASSERT_GE(last_data, 0);
    ASSERT_GE(first_fat, 0);
    ASSERT_GE(first_dir, 0);
    EXPECT_LT(last_data, first_fat);
    EXPECT_LT(last_fat, first_dir);
    EXPECT_TRUE(flush_between);
    vol->close(&f);
    expect_fats_equal();
}

TEST_F(Fat, RenameInOneSectorIsOneWrite) {
    mkfs_mount(16384);
    ASSERT_EQ(put("/A.TXT", "a"), 0);
    ASSERT_EQ(put("/other.txt", "o"), 0);
    disk->logging = true;
    ASSERT_EQ(vol->rename("/A.TXT", "/B.TXT"), 0);
    int writes = 0;
    for (auto &op : disk->log) writes += op.kind == 'w';
    EXPECT_EQ(writes, 1);
    disk->log.clear();
    ASSERT_EQ(vol->rename("/other.txt", "/else.txt"), 0);  // same slot count: in place
    writes = 0;
    for (auto &op : disk->log) writes += op.kind == 'w';
    EXPECT_EQ(writes, 1);
    disk->logging = false;
    EXPECT_EQ(get("/B.TXT"), "a");
    EXPECT_EQ(get("/else.txt"), "o");
    sync();
    fsck_clean();
}

TEST_F(Fat, ReplaceFreesClustersAfterEntryIsWritten) {
    mkfs_mount(16384);
    const Geo g = geo_of(img);
    ASSERT_EQ(vol->mkdir("/d"), 0);
    ASSERT_EQ(put("/d/new.bin", random_bytes(3000, 70)), 0);
    ASSERT_EQ(put("/old.bin", random_bytes(9000, 71)), 0);
    disk->logging = true;
    ASSERT_EQ(vol->rename("/d/new.bin", "/old.bin"), 0);
    disk->logging = false;
    int first_root = -1, first_fat = -1;
    for (int i = 0; i < int(disk->log.size()); i++) {
        auto &op = disk->log[i];
        if (op.kind != 'w') continue;
        if (op.lba >= g.root_lba && op.lba < g.data_lba && first_root < 0) first_root = i;
        if (op.lba >= g.res && op.lba < g.root_lba && first_fat < 0) first_fat = i;
    }
    ASSERT_GE(first_root, 0);
    ASSERT_GE(first_fat, 0);
    EXPECT_LT(first_root, first_fat);
    sync();
    fsck_clean();
}

// Power loss after every possible number of writes: fsck may only find leftovers that lose
// nothing (lost clusters, a chain longer than the size, a half-written second FAT, the dirty bit),
// and every file holds either its old or its new content.
TEST_F(Fat, PowerLossAtEveryWrite) {
    mkfs(4096, "-F 16 -s 1");
    const std::string a = random_bytes(10000, 63), b = random_bytes(7000, 64), d = random_bytes(20000, 65);
    mcopy_in(a, "/A.BIN");
    mcopy_in(b, "/B.BIN");
    int rc;
    sh("mmd -i " + quote(img) + " ::/sub", &rc);
    ASSERT_EQ(rc, 0);
    const std::string base = host_read(img);
    struct Op {
        const char *what;
        std::function<void(fs::Volume &)> run;
        std::map<std::string, std::vector<std::string>> allowed;  // path -> acceptable contents ("" absent)
        bool may_share;  // cross-directory rename: the new entry is written before the old goes
    };
    const std::string absent = "<absent>";
    std::vector<Op> ops = {
        {"create+write", [&](fs::Volume &v) { fs::File f{}; if (!v.open("/new file.bin", fs::kCreat | fs::kWrOnly, &f)) { v.write(&f, 0, d.data(), d.size()); v.close(&f); } },
         {{"/new file.bin", {absent, "", d}}}, false},
        // (Overwriting existing bytes cannot be atomic on FAT: appending at the end is.)
        {"append", [&](fs::Volume &v) { fs::File f{}; if (!v.open("/A.BIN", fs::kWrOnly, &f)) { v.write(&f, a.size(), d.data(), d.size()); v.close(&f); } },
         {{"/A.BIN", {a, a + d}}}, false},
        {"truncate", [&](fs::Volume &v) { fs::File f{}; if (!v.open("/A.BIN", fs::kWrOnly, &f)) { v.truncate(&f, 3000); v.close(&f); } },
         {{"/A.BIN", {a, a.substr(0, 3000)}}}, false},
        {"rename over", [&](fs::Volume &v) { v.rename("/A.BIN", "/B.BIN"); },
         {{"/A.BIN", {a, absent}}, {"/B.BIN", {b, a}}}, false},
        {"rename across", [&](fs::Volume &v) { v.rename("/A.BIN", "/sub/moved a.bin"); },
         {{"/A.BIN", {a, absent}}, {"/sub/moved a.bin", {absent, a}}}, true},
        {"unlink", [&](fs::Volume &v) { v.unlink("/A.BIN"); }, {{"/A.BIN", {a, absent}}}, false},
        {"mkdir+file", [&](fs::Volume &v) { v.mkdir("/new dir"); fs::File f{}; if (!v.open("/new dir/x.txt", fs::kCreat | fs::kWrOnly, &f)) { v.write(&f, 0, d.data(), 5000); v.close(&f); } },
         {{"/new dir/x.txt", {absent, "", d.substr(0, 5000)}}}, false},
    };
    const std::vector<std::string> benign = {
        "Dirty bit is set. Fs was not properly unmounted and some data may be corrupt.",
        "Automatically removing dirty bit.", "Leaving filesystem unchanged.",
        "FATs differ but appear to be intact.", "Using first FAT.", "Reclaimed ",
        "Truncating file to ", "/",  // a path, then what is wrong with it (checked on its own)
        ""};
    for (const Op &op : ops) {
        SCOPED_TRACE(op.what);
        host_write(img, base);
        ASSERT_EQ(mount(), 0);
        op.run(*vol);
        ASSERT_EQ(vol->sync_all(), 0);
        const uint64_t total = disk->writes;
        for (uint64_t n = 0; n <= total; n++) {
            SCOPED_TRACE("power lost after write " + std::to_string(n) + " of " + std::to_string(total));
            host_write(img, base);
            ASSERT_EQ(mount(), 0);
            disk->fail_writes_from = n;
            op.run(*vol);
            vol->sync_all();
            std::string out = sh("fsck.fat -n " + quote(img));
            std::istringstream lines(out);
            std::string line;
            std::getline(lines, line);  // version
            while (std::getline(lines, line)) {
                if (line.rfind(img, 0) == 0) continue;  // summary
                line.erase(0, line.find_first_not_of(' ') == std::string::npos ? line.size() : line.find_first_not_of(' '));
                bool ok = false;
                for (auto &prefix : benign) ok |= prefix.empty() ? line.empty() : line.rfind(prefix, 0) == 0;
                // A chain longer than the size: the size is the truth, the rest is unused.
                if (line.rfind("File size is ", 0) == 0 && line.find("cluster chain length is > ") != std::string::npos) ok = true;
                // Only the cross-directory rename may leave both entries (new first, then old).
                if (op.may_share)
                    for (const char *m : {"share clusters.", "Truncating second to 0 bytes.",
                                          "File size is 10000 bytes, cluster chain length is 0 bytes."})
                        ok |= line == m;
                EXPECT_TRUE(ok) << "fsck: " << line << "\n" << out;
            }
            // Contents: old or new, never a mix or another file's data.
            ASSERT_EQ(mount(), 0);
            for (auto &[path, versions] : op.allowed) {
                int err;
                std::string got = get(path, &err);
                if (err == kENOENT) got = absent;
                EXPECT_NE(std::find(versions.begin(), versions.end(), got), versions.end())
                    << path << " (" << got.size() << " bytes, err " << err << ")";
            }
            if (!op.allowed.count("/B.BIN")) {
                EXPECT_EQ(get("/B.BIN"), b);
            }
        }
    }
}

TEST_F(Fat, FatCopiesIdenticalAndCleanBit) {
    mkfs_mount(16384);
    const std::string before = host_read(img);
    EXPECT_TRUE(fat_entry(img, 1) & 0x8000);
    // Nothing is written by mount or by reads.
    fs::Stat st;
    EXPECT_EQ(vol->stat("/", &st), 0);
    EXPECT_EQ(host_read(img), before);
    fs::File f{};
    ASSERT_EQ(vol->open("/c.bin", fs::kCreat | fs::kWrOnly, &f), 0);
    EXPECT_FALSE(fat_entry(img, 1) & 0x8000);  // cleared before the first change
    EXPECT_FALSE(fat_entry(img, 1, 1) & 0x8000);
    ASSERT_EQ(vol->write(&f, 0, before.data(), 200000), 200000);
    ASSERT_EQ(vol->sync(&f), 0);
    expect_fats_equal();
    EXPECT_FALSE(fat_entry(img, 1) & 0x8000);
    ASSERT_EQ(vol->close(&f), 0);
    sync();
    EXPECT_TRUE(fat_entry(img, 1) & 0x8000);
    expect_fats_equal();
    fsck_clean();
    ASSERT_EQ(vol->mkdir("/x"), 0);
    EXPECT_FALSE(fat_entry(img, 1) & 0x8000);
    sync();
    EXPECT_TRUE(fat_entry(img, 1) & 0x8000);
    expect_fats_equal();
    fsck_clean();
}

TEST_F(Fat, DirtyAtMountStaysDirty) {
    mkfs(16384);
    set_fat_entry(img, 1, 0x7FFF);
    ASSERT_EQ(mount(), 0);
    ASSERT_EQ(put("/x.txt", "x"), 0);
    sync();
    EXPECT_FALSE(fat_entry(img, 1) & 0x8000);  // only fsck may call it clean
}

TEST_F(Fat, RemountSeesEverything) {
    mkfs_mount(16384);
    const std::string d = random_bytes(123456, 80);
    ASSERT_EQ(vol->mkdir("/a"), 0);
    ASSERT_EQ(put("/a/long file name.bin", d), 0);
    sync();
    auto v2 = std::make_unique<fs::Volume>();
    Disk d2(img);
    ASSERT_EQ(v2->mount(d2.dev()), 0);
    fs::File f{};
    ASSERT_EQ(v2->open("/A/LONG FILE NAME.BIN", fs::kRdOnly, &f), 0);
    std::string buf(d.size(), '\0');
    ASSERT_EQ(v2->read(&f, 0, buf.data(), buf.size()), int64_t(d.size()));
    EXPECT_EQ(buf, d);
}

TEST_F(Fat, LongNameRunAcrossSectorBoundary) {
    mkfs_mount(16384);
    // 14 one-slot entries, then a name needing 5 slots (4 long-name slots + the short entry):
    // slots 14..18 span root sectors 0 and 1.
    for (int i = 0; i < 14; i++) ASSERT_EQ(put("/S" + std::to_string(i), "s"), 0);
    const std::string n = "a name that needs four long-name slots...bin";  // 44 chars
    ASSERT_EQ(put("/" + n, "spanning"), 0) << vol->last_error();
    EXPECT_EQ(get("/" + n), "spanning");
    sync();
    fsck_clean();
    expect_mtools_has("/" + n, "spanning");
    // Rename it (new slots elsewhere, old ones deleted across the boundary), then delete.
    ASSERT_EQ(vol->rename(("/" + n).c_str(), "/another long name across.bin"), 0) << vol->last_error();
    EXPECT_EQ(get("/another long name across.bin"), "spanning");
    for (int i = 0; i < 14; i += 2) ASSERT_EQ(vol->unlink(("/S" + std::to_string(i)).c_str()), 0);
    ASSERT_EQ(put("/" + n, "again"), 0);  // not into the 1-slot holes: it needs 5 in a row
    sync();
    fsck_clean();
    expect_mtools_has("/another long name across.bin", "spanning");
    expect_mtools_has("/" + n, "again");
    ASSERT_EQ(vol->unlink(("/" + n).c_str()), 0);
    ASSERT_EQ(vol->unlink("/another long name across.bin"), 0);
    sync();
    fsck_clean();
    EXPECT_EQ(list("/").size(), 7u);
}

TEST_F(Fat, SyncAllCommitsOpenFiles) {
    mkfs_mount(16384);
    fs::File f{};
    ASSERT_EQ(vol->open("/open.bin", fs::kCreat | fs::kRdWr, &f), 0);
    const std::string d = random_bytes(50000, 61);
    ASSERT_EQ(vol->write(&f, 0, d.data(), d.size()), int64_t(d.size()));
    EXPECT_TRUE(f.dirty);
    fs::Stat st;
    ASSERT_EQ(vol->stat("/open.bin", &st), 0);  // the open file's size, not the stored one
    EXPECT_EQ(st.size, d.size());
    sync();  // the file stays open
    fsck_clean();
    expect_mtools_has("/open.bin", d);
    ASSERT_EQ(vol->write(&f, d.size(), "more", 4), 4);
    ASSERT_EQ(vol->close(&f), 0);
    sync();
    fsck_clean();
    expect_mtools_has("/open.bin", d + "more");
}

TEST_F(Fat, FstatOfFilesAndDirectories) {
    mkfs(16384);
    int rc;
    sh("mmd -i " + quote(img) + " ::/DIR", &rc);
    mcopy_in("12345", "/DIR/F.TXT");
    ASSERT_EQ(mount(), 0);
    fs::Stat st, st2;
    fs::File d{}, f{}, r{};
    ASSERT_EQ(vol->open("/dir", fs::kRdOnly, &d), 0);
    ASSERT_EQ(vol->fstat(&d, &st), 0);
    ASSERT_EQ(vol->stat("/DIR", &st2), 0);
    EXPECT_TRUE(st.dir);
    EXPECT_EQ(st.first_cluster, st2.first_cluster);
    EXPECT_EQ(st.fat_date, st2.fat_date);
    EXPECT_NE(st.fat_date, 0);  // the time mtools stored
    ASSERT_EQ(vol->open("/", fs::kRdOnly, &r), 0);
    ASSERT_EQ(vol->fstat(&r, &st), 0);
    EXPECT_TRUE(st.dir);
    EXPECT_EQ(st.first_cluster, 0u);
    ASSERT_EQ(vol->open("/dir/f.txt", fs::kRdOnly, &f), 0);
    ASSERT_EQ(vol->fstat(&f, &st), 0);
    EXPECT_FALSE(st.dir);
    EXPECT_EQ(st.size, 5u);
    ASSERT_EQ(vol->stat("/dir/f.txt", &st2), 0);
    EXPECT_EQ(st.fat_time, st2.fat_time);  // reading keeps the stored times
    EXPECT_EQ(st.fat_date, st2.fat_date);
    vol->close(&f);
    vol->close(&d);
    vol->close(&r);
}

TEST_F(Fat, DifferingSecondFatIsRewrittenOnFlush) {
    mkfs(16384);
    mcopy_in(random_bytes(9000, 62), "/X.BIN");
    const Geo g = geo_of(img);
    const uint16_t junk = 0x1234;  // an entry far away, in FAT sector 10 of the second copy only
    patch(img, (g.res + g.fatsz + 10) * 512ull + 6, &junk, 2);
    ASSERT_EQ(mount(), 0);
    ASSERT_EQ(put("/y.txt", "y"), 0);
    sync();
    expect_fats_equal();
    fsck_clean();
}

// ---- corrupt images ----------------------------------------------------------------------------------

TEST_F(Fat, RejectsFat12AndFat32) {
    mkfs(4096, "-F 12");
    EXPECT_EQ(mount(), kEINVAL);
    EXPECT_NE(std::string(vol->last_error()).find("FAT12 volume"), std::string::npos) << vol->last_error();
    EXPECT_FALSE(vol->mounted());
    std::filesystem::remove(img);
    mkfs(40000, "-F 32");
    EXPECT_EQ(mount(), kEINVAL);
    EXPECT_NE(std::string(vol->last_error()).find("FAT32"), std::string::npos) << vol->last_error();
}

TEST_F(Fat, RejectsBadBootSectors) {
    mkfs(16384);
    const std::string orig = host_read(img);
    auto patched = [&](int off, std::vector<uint8_t> bytes) {
        host_write(img, orig);
        patch(img, off, bytes.data(), bytes.size());
        const int r = mount();
        return std::make_pair(r, std::string(vol->last_error()));
    };
    auto [r1, m1] = patched(11, {0x00, 0x04});
    EXPECT_EQ(r1, kEINVAL);
    EXPECT_EQ(m1, "BPB: bytes per sector is 1024, only 512 is supported");
    auto [r2, m2] = patched(510, {0x00, 0x00});
    EXPECT_EQ(r2, kEINVAL);
    EXPECT_NE(m2.find("55 AA"), std::string::npos) << m2;
    auto [r3, m3] = patched(13, {3});
    EXPECT_EQ(r3, kEINVAL);
    EXPECT_NE(m3.find("sectors per cluster is 3"), std::string::npos) << m3;
    auto [r4, m4] = patched(16, {3});
    EXPECT_EQ(r4, kEINVAL);
    EXPECT_NE(m4.find("number of FATs is 3"), std::string::npos) << m4;
    auto [r5, m5] = patched(17, {0x05, 0x00});
    EXPECT_EQ(r5, kEINVAL);
    EXPECT_NE(m5.find("root entry count is 5"), std::string::npos) << m5;
    auto [r6, m6] = patched(14, {0, 0});
    EXPECT_EQ(r6, kEINVAL);
    EXPECT_NE(m6.find("reserved sector count is 0"), std::string::npos) << m6;
    auto [r7, m7] = patched(22, {0, 0});
    EXPECT_EQ(r7, kEINVAL);
    EXPECT_NE(m7.find("FAT size is 0"), std::string::npos) << m7;
    // The device is smaller than the BPB says.
    host_write(img, orig.substr(0, orig.size() / 2));
    EXPECT_EQ(mount(), kEINVAL);
    EXPECT_NE(std::string(vol->last_error()).find("exceed the device"), std::string::npos) << vol->last_error();
    host_write(img, orig);
    EXPECT_EQ(mount(), 0);
}

TEST_F(Fat, ChainLoopGivesEioWithoutHanging) {
    mkfs(16384);
    const Geo g = geo_of(img);
    mcopy_in(random_bytes(5 * g.cluster_bytes, 90), "/LOOP.BIN");
    ASSERT_EQ(mount(), 0);
    fs::Stat st;
    ASSERT_EQ(vol->stat("/LOOP.BIN", &st), 0);
    const uint32_t first = st.first_cluster;
    set_fat_entry(img, first + 4, uint16_t(first));  // last cluster back to the first
    ASSERT_EQ(mount(), 0);
    int err;
    get("/LOOP.BIN", &err);
    EXPECT_EQ(err, kEIO);
    EXPECT_NE(std::string(vol->last_error()).find("loops"), std::string::npos) << vol->last_error();
    // Writing and truncating refuse too; unlinking cleans up as far as the chain is sound.
    fs::File f{};
    ASSERT_EQ(vol->open("/LOOP.BIN", fs::kRdWr, &f), 0);
    EXPECT_EQ(vol->write(&f, 0, "x", 1), kEIO);
    EXPECT_EQ(vol->truncate(&f, 3), kEIO);
    vol->close(&f);
    ASSERT_EQ(vol->unlink("/LOOP.BIN"), 0);
    sync();
    fsck_clean();
}

TEST_F(Fat, BrokenChainsGiveEio) {
    struct Case {
        const char *what;
        uint32_t at;      // cluster index in the chain to patch
        uint16_t value;
        const char *msg;
    };
    for (const Case &c : {Case{"free", 2, 0x0000, "free"}, Case{"outside", 1, 0xFFF0, "leaves"},
                          Case{"bad", 3, 0xFFF7, "bad"}, Case{"huge", 1, 0x7000, "leaves"}}) {
        SCOPED_TRACE(c.what);
        std::filesystem::remove(img);
        mkfs(16384);
        const Geo g = geo_of(img);
        mcopy_in(random_bytes(5 * g.cluster_bytes, 91), "/F.BIN");
        ASSERT_EQ(mount(), 0);
        fs::Stat st;
        ASSERT_EQ(vol->stat("/F.BIN", &st), 0);
        set_fat_entry(img, st.first_cluster + c.at, c.value);
        ASSERT_EQ(mount(), 0);
        int err;
        get("/F.BIN", &err);
        EXPECT_EQ(err, kEIO);
        EXPECT_NE(std::string(vol->last_error()).find(c.msg), std::string::npos) << vol->last_error();
    }
}

TEST_F(Fat, SizeBeyondChainGivesEio) {
    mkfs(16384);
    const Geo g = geo_of(img);
    mcopy_in(random_bytes(2 * g.cluster_bytes, 92), "/S.BIN");
    // The first root entry is S.BIN: claim 3 clusters' worth.
    const uint32_t size = 3 * g.cluster_bytes;
    patch(img, g.root_lba * 512ull + 28, &size, 4);
    ASSERT_EQ(mount(), 0);
    fs::Stat st;
    ASSERT_EQ(vol->stat("/S.BIN", &st), 0);
    EXPECT_EQ(st.size, size);
    int err;
    get("/S.BIN", &err);
    EXPECT_EQ(err, kEIO);
    EXPECT_NE(std::string(vol->last_error()).find("shorter than the file size"), std::string::npos)
        << vol->last_error();
}

TEST_F(Fat, DirectoryChainLoopGivesEio) {
    mkfs(16384, "-F 16 -s 1");
    int rc;
    sh("mmd -i " + quote(img) + " ::/D", &rc);
    ASSERT_EQ(rc, 0);
    mcopy_in("x", "/D/X.TXT");
    ASSERT_EQ(mount(), 0);
    fs::Stat st;
    ASSERT_EQ(vol->stat("/D", &st), 0);
    set_fat_entry(img, st.first_cluster, uint16_t(st.first_cluster));  // points to itself
    ASSERT_EQ(mount(), 0);
    EXPECT_EQ(vol->stat("/D/X.TXT", &st), kEIO);
    EXPECT_EQ(vol->open("/D/NEW.TXT", fs::kCreat | fs::kWrOnly, nullptr), kEINVAL);
    fs::File f{};
    EXPECT_EQ(vol->open("/D/NEW.TXT", fs::kCreat | fs::kWrOnly, &f), kEIO);
    ASSERT_EQ(vol->open("/D", fs::kRdOnly, &f), 0);
    uint64_t cookie = 0;
    fs::DirEntry e;
    EXPECT_EQ(vol->readdir(&f, &cookie, &e), kEIO);
}

TEST_F(Fat, DeviceErrorsAreReported) {
    mkfs_mount(16384);
    ASSERT_EQ(put("/a.txt", "a"), 0);
    disk->fail_writes_from = disk->writes;  // the device dies
    EXPECT_EQ(put("/b.txt", random_bytes(10000, 3)), kEIO);
    EXPECT_EQ(vol->mkdir("/d"), kEIO);
    EXPECT_EQ(vol->sync_all(), kEIO);
}

// ---- random operations against a model ----------------------------------------------------------------

TEST_F(Fat, RandomOperationsMatchModel) {
    mkfs_mount(8192, "-F 16 -s 1");
    std::mt19937 rng(12345);
    std::map<std::string, std::string> model;  // path -> content
    std::set<std::string> dirs = {""};
    auto pick = [&](auto &c) { auto it = c.begin(); std::advance(it, rng() % c.size()); return *it; };
    auto name = [&]() {
        static const char *stems[] = {"a", "B.TXT", "long name", "Mixed.Case.Name", "x~1", "data.bin",
                                      "ünï", "NAME WITH SPACES.LONGEXT"};
        return std::string(stems[rng() % 8]) + (rng() % 2 ? std::to_string(rng() % 5) : "");
    };
    for (int step = 0; step < 1500; step++) {
        const int op = int(rng() % 10);
        const std::string d = pick(dirs);
        if (op <= 3) {  // write somewhere
            std::string p = (model.empty() || rng() % 3 == 0) ? d + "/" + name() : pick(model).first;
            if (dirs.count(p)) continue;
            fs::File f{};
            int r = vol->open(p.c_str(), fs::kCreat | fs::kRdWr, &f);
            ASSERT_EQ(r, 0) << p << ": " << vol->last_error();
            std::string &m = model[p];
            // Any path that matches case-insensitively is the same file.
            for (auto it = model.begin(); it != model.end();) {
                if (it->first != p && strcasecmp(it->first.c_str(), p.c_str()) == 0) {
                    m = it->second;
                    it = model.erase(it);
                } else {
                    ++it;
                }
            }
            const uint64_t off = rng() % (m.size() + 3000);
            const std::string data = random_bytes(rng() % 6000, step);
            const int64_t w = vol->write(&f, off, data.data(), data.size());
            ASSERT_EQ(w, int64_t(data.size())) << vol->last_error();
            if (!data.empty()) {
                if (m.size() < off + data.size()) m.resize(off + data.size(), '\0');
                m.replace(off, data.size(), data);
            }
            ASSERT_EQ(vol->close(&f), 0);
        } else if (op == 4 && !model.empty()) {  // truncate
            auto [p, m] = pick(model);
            fs::File f{};
            ASSERT_EQ(vol->open(p.c_str(), fs::kRdWr, &f), 0);
            const uint64_t n = rng() % (m.size() + 2000);
            ASSERT_EQ(vol->truncate(&f, n), 0) << vol->last_error();
            model[p].resize(n, '\0');
            ASSERT_EQ(vol->close(&f), 0);
        } else if (op == 5 && !model.empty()) {  // unlink
            auto p = pick(model).first;
            ASSERT_EQ(vol->unlink(p.c_str()), 0) << p;
            model.erase(p);
        } else if (op == 6 && !model.empty()) {  // rename a file
            auto p = pick(model).first;
            std::string to = pick(dirs) + "/" + name();
            if (dirs.count(to)) continue;
            bool clash_dir = false;
            for (auto &x : dirs) clash_dir |= strcasecmp(x.c_str(), to.c_str()) == 0;
            if (clash_dir) continue;
            ASSERT_EQ(vol->rename(p.c_str(), to.c_str()), 0) << p << " -> " << to << ": " << vol->last_error();
            std::string content = model[p];
            model.erase(p);
            std::string key = to;
            for (auto it = model.begin(); it != model.end();) {
                if (strcasecmp(it->first.c_str(), to.c_str()) == 0) {
                    key = it->first == p ? to : it->first;  // the existing (replaced) entry keeps its name
                    it = model.erase(it);
                } else {
                    ++it;
                }
            }
            model[key] = content;
        } else if (op == 7 && dirs.size() < 12) {  // mkdir
            std::string p = d + "/dir" + std::to_string(rng() % 20);
            bool clash = false;
            for (auto &x : model) clash |= strcasecmp(x.first.c_str(), p.c_str()) == 0;
            if (clash || dirs.count(p)) continue;
            ASSERT_EQ(vol->mkdir(p.c_str()), 0) << p << ": " << vol->last_error();
            dirs.insert(p);
        } else if (op == 8) {  // verify one file
            if (model.empty()) continue;
            auto [p, m] = pick(model);
            ASSERT_EQ(get(p), m) << p;
        } else if (op == 9 && step % 50 == 0) {
            sync();
            fsck_clean();
        }
    }
    for (auto &[p, m] : model) ASSERT_EQ(get(p), m) << p;
    sync();
    fsck_clean();
    for (auto &[p, m] : model) expect_mtools_has(p, m);
}

}  // namespace
