// Unit tests of the FAT16 engine against the real tools: images come from mkfs.fat, files are
// put in and taken out with mtools, and every image we write to must pass `fsck.fat -n`.
// This file: mount, reading what mtools wrote, names, directories. The harness is
// fat16_harness.h; fat16_write_test.cpp and fat16_crash_test.cpp hold the rest.
#include "fat16_harness.h"

// The engine must be usable as a global without a constructor running before main.
constinit bf::fs::Volume g_static_volume;

using namespace fat16test;

namespace {

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

}  // namespace
