// FAT16 engine unit tests (harness: fat16_harness.h): the damaged entries and FATs of the hostile
// probe (issue 15) give -EIO with a precise reason in last_error(), never a hang or a crash; the
// program's messages carry that reason (bf::vfs::read_all, tests/hosted/fs-damage.test).
#include "fat16_harness.h"

using namespace fat16test;

namespace {

// The first root entry's 32 bytes (the file a test copied in first).
uint64_t first_entry(const std::string &img) { return geo_of(img).root_lba * 512ull; }

TEST_F(Fat, HugeSizeInEntryGivesEioNamingTheChain) {
    mkfs(16384);
    const Geo g = geo_of(img);
    mcopy_in(random_bytes(3 * g.cluster_bytes, 93), "/H.BIN");
    const uint32_t size = 0xFFFFFFF0;
    patch(img, first_entry(img) + 28, &size, 4);
    ASSERT_EQ(mount(), 0);
    fs::Stat st;
    ASSERT_EQ(vol->stat("/H.BIN", &st), 0);
    EXPECT_EQ(st.size, size);
    fs::File f{};
    ASSERT_EQ(vol->open("/H.BIN", fs::kRdOnly, &f), 0);
    std::string buf(4096, '\0');
    vol->clear_error();
    EXPECT_EQ(vol->read(&f, 0, buf.data(), buf.size()), kEIO);
    EXPECT_NE(std::string(vol->last_error()).find("shorter than the file size"), std::string::npos)
        << vol->last_error();
    vol->close(&f);
}

TEST_F(Fat, FirstClusterZeroWithSizeGivesEio) {
    mkfs(16384);
    const Geo g = geo_of(img);
    mcopy_in(random_bytes(2 * g.cluster_bytes, 94), "/Z.BIN");
    const uint16_t zero = 0;
    patch(img, first_entry(img) + 26, &zero, 2);
    ASSERT_EQ(mount(), 0);
    int err;
    vol->clear_error();
    get("/Z.BIN", &err);
    EXPECT_EQ(err, kEIO);
    EXPECT_NE(std::string(vol->last_error()).find("no clusters (first cluster 0)"), std::string::npos)
        << vol->last_error();
}

TEST_F(Fat, ShortChainGivesEio) {
    mkfs(16384);
    const Geo g = geo_of(img);
    mcopy_in(random_bytes(4 * g.cluster_bytes, 95), "/S.BIN");
    ASSERT_EQ(mount(), 0);
    fs::Stat st;
    ASSERT_EQ(vol->stat("/S.BIN", &st), 0);
    set_fat_entry(img, st.first_cluster, 0xFFFF);  // ends after one cluster
    ASSERT_EQ(mount(), 0);
    int err;
    get("/S.BIN", &err);
    EXPECT_EQ(err, kEIO);
    EXPECT_NE(std::string(vol->last_error()).find("shorter than the file size"), std::string::npos)
        << vol->last_error();
}

// Random bytes over the FAT sectors that hold a file's chain: every outcome is either the file's
// length of data (a chain that happens to stay valid cannot be told from the real one) or -EIO
// with a reason; never a hang, a crash or a read past the chain.
TEST_F(Fat, RandomFatBytesGiveDataOrAReason) {
    for (uint32_t seed = 1; seed <= 20; seed++) {
        SCOPED_TRACE(seed);
        std::filesystem::remove(img);
        mkfs(16384);
        const Geo g = geo_of(img);
        const std::string data = random_bytes(6 * g.cluster_bytes + 100, 96);
        mcopy_in(data, "/R.BIN");
        ASSERT_EQ(mount(), 0);
        fs::Stat st;
        ASSERT_EQ(vol->stat("/R.BIN", &st), 0);
        const std::string junk = random_bytes(512, seed);
        for (uint32_t copy = 0; copy < 2; copy++)
            patch(img, (g.res + copy * g.fatsz) * 512ull + st.first_cluster * 2 / 512 * 512, junk.data(), 512);
        if (mount() != 0) {  // FAT[0]/[1] hit: the mount says why
            EXPECT_NE(std::string(vol->last_error()), "");
            continue;
        }
        int err = 0;
        vol->clear_error();
        const std::string got = get("/R.BIN", &err);
        if (err == 0) {
            EXPECT_EQ(got.size(), data.size());
        } else {
            EXPECT_EQ(err, kEIO);
            EXPECT_NE(std::string(vol->last_error()), "") << "an I/O error without a reason";
        }
    }
}

}  // namespace
