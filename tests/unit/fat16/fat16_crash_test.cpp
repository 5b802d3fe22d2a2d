// FAT16 engine unit tests (harness: fat16_harness.h): crash-safety write ordering, power loss at
// every write, FAT copies and the clean bit, corrupt images, and random operations against a model.
#include "fat16_harness.h"

using namespace fat16test;

namespace {

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
