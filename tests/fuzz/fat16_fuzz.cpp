// libFuzzer target for the FAT16 engine: the input is the start of a 4 MiB disk image (the rest
// reads as zeros). It mounts, walks the whole tree (readdir, stat, open, read), makes a few
// changes (create, write, sparse write, truncate, mkdir, rename, unlink, rmdir, sync_all) and
// runs a short operation script taken from the input's tail, then mounts and walks again. A crash, a hang, a sanitizer report or any device access outside the
// image is a bug in the engine.
//
// Build, seed and run: tests/fuzz/run.sh fat16_fuzz SECONDS (from the repository root).
// The target is declared in tests/CMakeLists.txt (BF_FUZZ=ON); to build it alone:
//   tests/fuzz/run.sh --build   (configures build/fuzz, builds every target), then
//   cmake --build build/fuzz --target fat16_fuzz
// Seeds (small FAT16 images made by mkfs.fat + mtools, trailing zeros cut off):
//   tests/fuzz/make-seeds.sh build/fuzz/seeds
// Run (3 minutes; new inputs go to build/fuzz/corpus):
//   mkdir -p build/fuzz/corpus && build/fuzz/fat16_fuzz -max_total_time=180 -timeout=10 \
//     -max_len=1048576 build/fuzz/corpus build/fuzz/seeds
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "../../kernel_lib/fs/fat16.h"

namespace fs = bf::fs;

namespace {

constexpr uint64_t kDiskBytes = 4u << 20;
uint8_t g_disk[kDiskBytes];
uint64_t g_dirty_end = kDiskBytes;  // bytes of g_disk that may be nonzero (all at start-up)
constinit fs::Volume g_vol;
uint8_t g_buf[70000];

int dev_read(void *, uint64_t lba, uint32_t n, void *buf) {
    if (n == 0 || lba >= kDiskBytes / 512 || n > kDiskBytes / 512 - lba) __builtin_trap();
    memcpy(buf, g_disk + lba * 512, size_t(n) * 512);
    return 0;
}

int dev_write(void *, uint64_t lba, uint32_t n, const void *buf) {
    if (n == 0 || lba >= kDiskBytes / 512 || n > kDiskBytes / 512 - lba) __builtin_trap();
    memcpy(g_disk + lba * 512, buf, size_t(n) * 512);
    if ((lba + n) * 512 > g_dirty_end) g_dirty_end = (lba + n) * 512;
    return 0;
}

int dev_flush(void *) { return 0; }

struct Walk {
    int files = 0, entries = 0;
    char first_file[512] = {};
    char first_dir[512] = {};
};

void read_file(const char *path) {
    fs::File f{};
    if (g_vol.open(path, fs::kRdOnly, &f) != 0) return;
    fs::Stat st;
    g_vol.fstat(&f, &st);
    if (!f.dir) {
        const uint64_t size = f.size;
        const uint64_t offs[] = {0, size / 2, size > 100 ? size - 100 : 0, size + 10};
        for (uint64_t off : offs) {
            const int64_t r = g_vol.read(&f, off, g_buf, sizeof g_buf);
            if (r > int64_t(sizeof g_buf)) __builtin_trap();
        }
        if (size < 300000)  // whole small files, in odd-sized pieces
            for (uint64_t off = 0; off < size; off += 7001)
                if (g_vol.read(&f, off, g_buf, 7001) < 0) break;
    }
    g_vol.close(&f);
}

// Depth-first walk with an explicit budget (a corrupt image can describe a huge tree).
void walk(const char *dir, int depth, Walk &w) {
    if (depth > 6 || w.entries > 3000) return;
    fs::File d{};
    if (g_vol.open(dir, fs::kRdOnly | fs::kDirectory, &d) != 0) return;
    uint64_t cookie = 0;
    fs::DirEntry e;
    int n = 0;
    while (n++ < 600 && g_vol.readdir(&d, &cookie, &e) == 1) {
        w.entries++;
        if (strlen(e.name) > 255) __builtin_trap();
        if (!strcmp(e.name, ".") || !strcmp(e.name, "..")) continue;
        char path[1024];
        const size_t dl = strlen(dir), nl = strlen(e.name);
        if (dl + 1 + nl + 1 > sizeof path) continue;
        memcpy(path, dir, dl);
        size_t k = dl;
        if (k == 0 || path[k - 1] != '/') path[k++] = '/';
        memcpy(path + k, e.name, nl + 1);
        fs::Stat st;
        g_vol.stat(path, &st);
        if (e.dir) {
            if (!w.first_dir[0] && strlen(path) < sizeof w.first_dir) strcpy(w.first_dir, path);
            // The directory File stays open while its child is walked: cookies must survive.
            walk(path, depth + 1, w);
        } else {
            if (!w.first_file[0] && strlen(path) < sizeof w.first_file) strcpy(w.first_file, path);
            if (w.files++ < 200) read_file(path);
        }
    }
    g_vol.close(&d);
}

void changes(const uint8_t *data, size_t size, const Walk &w) {
    const uint8_t sel = size > 3 ? data[3] : 0;
    fs::File f{};
    if (g_vol.open("/Fuzz New File.txt", fs::kCreat | fs::kRdWr, &f) == 0) {
        const size_t n = size < 5000 ? size : 5000;
        g_vol.write(&f, 0, data, n);
        g_vol.write(&f, 3 + (sel & 0x3F) * 1000, data, n < 700 ? n : 700);  // maybe sparse
        g_vol.truncate(&f, (sel & 1) ? 100 : 40000);
        g_vol.read(&f, 0, g_buf, sizeof g_buf);
        g_vol.sync(&f);
        g_vol.close(&f);
    }
    g_vol.mkdir("/fuzzdir");
    g_vol.rename("/Fuzz New File.txt", "/fuzzdir/renamed file.bin");
    g_vol.rename("/fuzzdir/renamed file.bin", "/FUZZ.BIN");
    if (w.first_file[0]) {
        if (g_vol.open(w.first_file, fs::kRdWr, &f) == 0) {
            g_vol.write(&f, sel * 37, data, size < 3000 ? size : 3000);
            g_vol.truncate(&f, sel * 100);
            g_vol.close(&f);
        }
        if (sel & 2) g_vol.rename(w.first_file, "/FUZZ.BIN");  // replaces it
        else g_vol.rename("/FUZZ.BIN", w.first_file);
        if (sel & 4) g_vol.unlink(w.first_file);
    }
    if (w.first_dir[0]) {
        char p[600];
        const size_t l = strlen(w.first_dir);
        memcpy(p, w.first_dir, l);
        memcpy(p + l, "/new entry.txt", 15);
        if (g_vol.open(p, fs::kCreat | fs::kWrOnly, &f) == 0) {
            g_vol.write(&f, 0, data, size < 2000 ? size : 2000);
            g_vol.close(&f);
        }
        if (sel & 8) g_vol.rename(w.first_dir, "/fuzzdir/moved");
        g_vol.rmdir(w.first_dir);
    }
    g_vol.unlink("/FUZZ.BIN");
    g_vol.rmdir("/fuzzdir");
    g_vol.sync_all();
}

// A little program in the input's last 96 bytes (usually file data in the seeds, so mutating it
// leaves the structures alone): operations on up to four open Files and a few paths, with checks
// that what was written reads back.
void script(const uint8_t *data, size_t size, const Walk &w) {
    if (size < 200) return;
    const uint8_t *op = data + size - 96;
    const char *paths[8] = {"/s1.txt", "/a long script name.dat", "/sdir", "/sdir/inner file",
                            "/sdir/sub", "/SDIR/SUB/x~1.y", w.first_file[0] ? w.first_file : "/S",
                            w.first_dir[0] ? w.first_dir : "/D"};
    fs::File files[4] = {};
    static uint8_t chk[8192];
    for (int i = 0; i + 3 <= 96; i += 3) {
        const uint8_t a = op[i], b = op[i + 1], c = op[i + 2];
        fs::File &f = files[a & 3];
        const char *p = paths[(a >> 2) & 7], *q = paths[b & 7];
        switch (a >> 5) {
        case 0:
            if (f.used) g_vol.close(&f);
            g_vol.open(p, (b & 0x40 ? fs::kCreat : 0) | (b & 0x80 ? fs::kTrunc : 0) | (b & 3), &f);
            break;
        case 1:
            if (f.used && !f.dir) {
                const uint64_t off = uint64_t(c) * ((b & 0x10) ? 4099 : 13);
                uint32_t n = (b & 0x0F) * 517u;
                if (n > size) n = uint32_t(size);
                const int64_t r = g_vol.write(&f, off, data, n);
                if (r > int64_t(n)) __builtin_trap();
                if (r > 0) {
                    if (g_vol.read(&f, off, chk, uint64_t(r)) != r) __builtin_trap();
                    if (memcmp(chk, data, size_t(r)) != 0) __builtin_trap();
                    fs::Stat st;
                    if (g_vol.fstat(&f, &st) != 0 || st.size < off + uint64_t(r)) __builtin_trap();
                }
            }
            break;
        case 2:
            if (f.used) {
                const int64_t r = g_vol.read(&f, uint64_t(c) * 211, g_buf, uint64_t(b) * 60);
                if (r > int64_t(b) * 60) __builtin_trap();
            }
            break;
        case 3:
            if (f.used && !f.dir) g_vol.truncate(&f, uint64_t(b) * c * 3);
            break;
        case 4:
            if (b & 1) g_vol.unlink(p);
            else g_vol.rmdir(p);
            break;
        case 5:
            if (b & 1) g_vol.mkdir(p);
            else g_vol.rename(p, q);
            break;
        case 6:
            if (f.used && f.dir) {
                uint64_t cookie = c;
                fs::DirEntry e;
                for (int k = 0; k < 40 && g_vol.readdir(&f, &cookie, &e) == 1; k++)
                    if (!e.name[0] || strlen(e.name) > 255) __builtin_trap();
            } else if (f.used) {
                g_vol.sync(&f);
            }
            break;
        default:
            if (b & 1) g_vol.sync_all();
            else if (f.used) g_vol.close(&f);
            break;
        }
    }
    for (fs::File &f : files)
        if (f.used) g_vol.close(&f);
    if (g_vol.free_bytes() > kDiskBytes) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    memset(g_disk, 0, g_dirty_end);
    const size_t n = size < kDiskBytes ? size : kDiskBytes;
    memcpy(g_disk, data, n);
    g_dirty_end = n;
    const fs::BlockDev dev{nullptr, dev_read, dev_write, dev_flush, kDiskBytes / 512};
    if (g_vol.mount(dev) != 0) {
        if (!g_vol.last_error()[0]) __builtin_trap();  // a failed mount must say why
        return 0;
    }
    if (g_vol.cluster_bytes() == 0 || g_vol.cluster_bytes() > 65536) __builtin_trap();
    Walk w;
    walk("/", 0, w);
    changes(data, size, w);
    script(data, size, w);
    g_vol.sync_all();
    // What the engine wrote must be readable by the engine.
    if (g_vol.mount(dev) == 0) {
        Walk w2;
        walk("/", 0, w2);
    }
    return 0;
}
