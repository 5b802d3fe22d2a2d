// FAT16 engine unit tests (harness: fat16_harness.h): open semantics and errors, writing,
// truncation, full disk and full root directory, rename.
#include "fat16_harness.h"

using namespace fat16test;

namespace {

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

}  // namespace
