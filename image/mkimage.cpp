// mkimage: writes a bootable BareFlow disk image.
//
//   LBA 0          MBR (boot/stage1): code, BPB hole, disk signature, partition table, 0x55AA
//   LBA 1..64      stage 2 (boot/stage2), the MBR always reads these 64 sectors
//   partition 1    FAT16 (active, type 0x0E), made beforehand with mkfs.fat + mcopy
//   partition 2    kernel (type 0xDA): struct bf_kernel_header + the flattened PT_LOAD image
//                  (one LZ4 block by default, see image/lz4_block.h) + the symbol table
//
// It refuses inputs that cannot boot (missing files, a PIE or non-x86-64 ELF, a kernel that does
// not fit its partition or below 4 GiB) with a message that names the problem, and it writes the
// image to a temporary file renamed into place, so a failed run never leaves a half image.
//
//   mkimage --mbr F --stage2 F --kernel ELF --fat F --out IMG [--cmdline S] [--kernel-mib N]
//           [--compress lz4|none] [--lz4-level 1..12]
//   mkimage --inspect IMG          print the partition table and the kernel header
//   mkimage --verify IMG           check the kernel partition as stage 2 would: header CRC, the
//                                  packed bytes' CRC, LZ4 decoding, the image + symbol table CRC
#include "../boot/include/bootinfo.h"
#include "../kernel_lib/include/bareflow/crc32.h"
#include "elf_image.h"
#include "lz4_block.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>
#include <unistd.h>

namespace {

constexpr uint32_t kSector = 512;
constexpr uint32_t kStage2Lba = 1;
constexpr uint32_t kAlign = 2048;  // partitions start on 1 MiB boundaries

// die("... %s ... %s", a, b): the message names what is wrong; exit status 1.
[[noreturn]] void die(const std::string &fmt, const std::string &a = "", const std::string &b = "") {
    std::fprintf(stderr, "mkimage: error: ");
    std::fprintf(stderr, fmt.c_str(), a.c_str(), b.c_str());
    std::fprintf(stderr, "\n");
    std::exit(1);
}

std::vector<uint8_t> read_file(const std::string &what, const std::string &path) {
    if (path.empty()) die("no %s given (see --help)", what);
    FILE *f = std::fopen(path.c_str(), "rb");
    if (!f) die("cannot open %s: %s", what + " '" + path + "'", std::strerror(errno));
    std::vector<uint8_t> data;
    uint8_t buf[1 << 16];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) data.insert(data.end(), buf, buf + n);
    bool bad = std::ferror(f);
    std::fclose(f);
    if (bad) die("cannot read %s '%s'", what, path);
    return data;
}

uint32_t align_up(uint64_t v, uint32_t a) { return uint32_t((v + a - 1) / a * a); }

void put_chs(uint8_t *p, uint32_t lba) {  // 255 heads x 63 sectors, clamped past cylinder 1023
    uint32_t c = lba / (255 * 63), h = (lba / 63) % 255, s = lba % 63 + 1;
    if (c > 1023) c = 1023, h = 254, s = 63;
    p[0] = uint8_t(h);
    p[1] = uint8_t(s | ((c >> 2) & 0xC0));
    p[2] = uint8_t(c);
}

void put_partition(uint8_t *mbr, int slot, bool active, uint8_t type, uint32_t lba, uint32_t n) {
    uint8_t *e = mbr + 0x1BE + 16 * slot;
    e[0] = active ? 0x80 : 0x00;
    put_chs(e + 1, lba);
    e[4] = type;
    put_chs(e + 5, lba + n - 1);
    std::memcpy(e + 8, &lba, 4);
    std::memcpy(e + 12, &n, 4);
}

struct Args {
    std::string mbr, stage2, kernel, fat, out, cmdline, inspect, verify;
    uint32_t kernel_mib = 0;  // 0: sized to fit
    bool lz4 = true;
    int lz4_level = 9;        // LZ4HC default: 12 saves 0.4% more for 2.5x the time
};

uint32_t sectors(uint64_t bytes) { return uint32_t((bytes + kSector - 1) / kSector); }

// The kernel partition's header; dies unless it is there and its magic, version and CRC hold.
bf_kernel_header read_header(const std::vector<uint8_t> &img, uint32_t klba, const std::string &path) {
    if (!klba || uint64_t(klba + 1) * kSector > img.size()) die("no kernel partition in '%s'", path);
    bf_kernel_header h;
    std::memcpy(&h, img.data() + uint64_t(klba) * kSector, sizeof h);
    return h;
}

int inspect(const std::string &path) {
    std::vector<uint8_t> img = read_file("image", path);
    if (img.size() < kSector || img[510] != 0x55 || img[511] != 0xAA)
        die("'%s' has no MBR boot signature", path);
    bool hole_zero = true;  // bytes 3..89: where a BPB would be; BIOSes may write there
    for (int i = 3; i < 0x5A; i++) hole_zero &= img[i] == 0;
    std::printf("mbr: bpb hole %s\n", hole_zero ? "zero" : "NOT zero");
    int active = 0;
    uint32_t klba = 0;
    for (int i = 0; i < 4; i++) {
        const uint8_t *e = img.data() + 0x1BE + 16 * i;
        uint32_t lba, n;
        std::memcpy(&lba, e + 8, 4);
        std::memcpy(&n, e + 12, 4);
        if (e[4] == 0) continue;
        active += e[0] == 0x80;
        std::printf("partition %d: %s type 0x%02x lba %u sectors %u\n", i + 1,
                    e[0] == 0x80 ? "active" : "inactive", e[4], lba, n);
        if (e[4] == BF_KERNEL_PART_TYPE) klba = lba;
    }
    std::printf("active partitions: %d\n", active);
    uint32_t sig;
    std::memcpy(&sig, img.data() + 0x1B8, 4);
    std::printf("disk signature: 0x%08x\n", sig);
    bf_kernel_header h = read_header(img, klba, path);
    h.cmdline[BF_CMDLINE_MAX - 1] = 0;
    std::printf("kernel: magic %.8s version %u load 0x%llx file %llu mem %llu entry 0x%llx "
                "crc 0x%08x symtab %llu\n",
                h.magic, h.version, (unsigned long long)h.load_addr,
                (unsigned long long)h.file_size, (unsigned long long)h.mem_size,
                (unsigned long long)h.entry, h.image_crc, (unsigned long long)h.symtab_size);
    if (h.flags & BF_KHDR_LZ4)
        std::printf("kernel packing: lz4 %llu bytes (%.2fx) crc 0x%08x at 0x%llx while loading\n",
                    (unsigned long long)h.packed_size,
                    h.packed_size ? double(h.file_size) / double(h.packed_size) : 0.0, h.packed_crc,
                    (unsigned long long)BF_PACKED_ADDR(h.load_addr, h.mem_size, h.symtab_size));
    else
        std::printf("kernel packing: none (flags 0x%x)\n", h.flags);
    std::printf("kernel image offset: %llu\ncmdline: \"%s\"\n",
                (unsigned long long)(klba + 1) * kSector, h.cmdline);
    return 0;
}

// What stage 2 checks, in its order, on the stored bytes; the first failure is the message.
int verify(const std::string &path) {
    std::vector<uint8_t> img = read_file("image", path);
    if (img.size() < kSector || img[510] != 0x55 || img[511] != 0xAA)
        die("'%s' has no MBR boot signature", path);
    uint32_t klba = 0, kn = 0;
    for (int i = 0; i < 4; i++) {
        const uint8_t *e = img.data() + 0x1BE + 16 * i;
        if (e[4] != BF_KERNEL_PART_TYPE) continue;
        std::memcpy(&klba, e + 8, 4);
        std::memcpy(&kn, e + 12, 4);
    }
    bf_kernel_header h = read_header(img, klba, path);
    auto fail = [&](const std::string &why) -> int {
        std::printf("verify: %s: %s\n", path.c_str(), why.c_str());
        return 1;
    };
    if (std::memcmp(h.magic, BF_KHDR_MAGIC, 8)) return fail("bad kernel header magic");
    if (h.version != BF_KHDR_VERSION)
        return fail("kernel header version " + std::to_string(h.version) + ", not " +
                    std::to_string(BF_KHDR_VERSION));
    bf_kernel_header z = h;
    z.header_crc = 0;
    if (crc32(&z, sizeof z) != h.header_crc) return fail("kernel header checksum mismatch");
    const bool lz4 = h.flags & BF_KHDR_LZ4;
    if ((h.flags & ~BF_KHDR_LZ4) || (lz4 ? h.packed_size == 0 : h.packed_size != 0) ||
        h.file_size == 0 || h.file_size > h.mem_size || h.load_addr < 0x100000 ||
        BF_PACKED_ADDR(h.load_addr, h.mem_size, h.symtab_size) + h.packed_size > 0x100000000ull)
        return fail("kernel header has impossible sizes, addresses or flags");
    const uint64_t stored = lz4 ? h.packed_size : h.file_size;
    const uint64_t data = (uint64_t(klba) + 1) * kSector;
    if (1 + uint64_t(sectors(stored)) + sectors(h.symtab_size) > kn ||
        data + uint64_t(sectors(stored)) * kSector + h.symtab_size > img.size())
        return fail("kernel image is larger than its partition");
    const uint8_t *p = img.data() + data;
    const uint8_t *symtab = p + uint64_t(sectors(stored)) * kSector;
    std::vector<uint8_t> image;
    char note[160] = "";
    if (lz4) {
        uint32_t got = crc32(p, h.packed_size);
        if (got != h.packed_crc) {
            char m[120];
            std::snprintf(m, sizeof m, "kernel LZ4 data checksum mismatch: header says 0x%08x, data gives 0x%08x",
                          h.packed_crc, got);
            return fail(m);
        }
        image.resize(h.file_size);
        Lz4Result r = lz4_decode(p, h.packed_size, image.data(), image.size());
        if (r.error != Lz4Error::kOk) {
            char m[200];
            std::snprintf(m, sizeof m, "kernel LZ4 data is corrupt: %s (packed byte 0x%08zx, image byte 0x%08zx)",
                          lz4_error_text(r.error), r.in_pos, r.out_pos);
            return fail(m);
        }
        std::snprintf(note, sizeof note, ", lz4 %llu -> %llu bytes",
                      (unsigned long long)h.packed_size, (unsigned long long)h.file_size);
    } else {
        image.assign(p, p + h.file_size);
    }
    uint32_t got = crc32(symtab, h.symtab_size, crc32(image.data(), image.size()));
    if (got != h.image_crc) {
        char m[120];
        std::snprintf(m, sizeof m, "kernel checksum mismatch: header says 0x%08x, data gives 0x%08x",
                      h.image_crc, got);
        return fail(m);
    }
    std::printf("verify: %s: ok (kernel header v%u%s, crc 0x%08x)\n", path.c_str(), h.version,
                note, h.image_crc);
    return 0;
}

Args parse(int argc, char **argv) {
    Args a;
    for (int i = 1; i < argc; i++) {
        std::string k = argv[i];
        if (k == "--help" || k == "-h") {
            std::puts("usage: mkimage --mbr F --stage2 F --kernel ELF --fat F --out IMG "
                      "[--cmdline S] [--kernel-mib N]\n"
                      "               [--compress lz4|none] [--lz4-level 1..12]\n"
                      "       mkimage --inspect IMG\n       mkimage --verify IMG");
            std::exit(0);
        }
        if (i + 1 >= argc) die("option '%s' needs a value", k);
        std::string v = argv[++i];
        if (k == "--mbr") a.mbr = v;
        else if (k == "--stage2") a.stage2 = v;
        else if (k == "--kernel") a.kernel = v;
        else if (k == "--fat") a.fat = v;
        else if (k == "--out") a.out = v;
        else if (k == "--cmdline") a.cmdline = v;
        else if (k == "--inspect") a.inspect = v;
        else if (k == "--verify") a.verify = v;
        else if (k == "--compress") {
            if (v != "lz4" && v != "none") die("--compress wants lz4 or none, not '%s'", v);
            a.lz4 = v == "lz4";
        } else if (k == "--lz4-level") {
            char *end;
            long n = std::strtol(v.c_str(), &end, 10);
            if (*end || n < 1 || n > 12) die("--lz4-level wants 1..12, not '%s'", v);
            a.lz4_level = int(n);
        }
        else if (k == "--kernel-mib") {
            char *end;
            unsigned long n = std::strtoul(v.c_str(), &end, 10);
            if (*end || n == 0 || n > 4000) die("--kernel-mib wants 1..4000, not '%s'", v);
            a.kernel_mib = uint32_t(n);
        } else die("unknown option '%s' (see --help)", k);
    }
    return a;
}

}  // namespace

int main(int argc, char **argv) {
    Args a = parse(argc, argv);
    if (!a.inspect.empty()) return inspect(a.inspect);
    if (!a.verify.empty()) return verify(a.verify);

    std::vector<uint8_t> mbr = read_file("MBR", a.mbr);
    if (mbr.size() != kSector || mbr[510] != 0x55 || mbr[511] != 0xAA)
        die("MBR '%s' must be 512 bytes ending in 55 AA", a.mbr);
    std::vector<uint8_t> stage2 = read_file("stage 2", a.stage2);
    uint32_t magic = 0;
    if (stage2.size() >= 8) std::memcpy(&magic, stage2.data() + 4, 4);
    if (magic != 0x32534642) die("stage 2 '%s' has no BFS2 signature", a.stage2);
    if (stage2.size() > BF_STAGE2_MAX_SECTORS * kSector)
        die("stage 2 '%s' is larger than %s sectors", a.stage2, std::to_string(BF_STAGE2_MAX_SECTORS));
    if (a.cmdline.size() >= BF_CMDLINE_MAX)
        die("--cmdline is longer than %s bytes", std::to_string(BF_CMDLINE_MAX - 1));

    std::vector<uint8_t> elf = read_file("kernel", a.kernel);
    std::string err;
    ElfImage k;
    if (!load_elf_image(elf, k, err)) die("kernel '%s': %s", a.kernel, err);
    if (k.load_addr < 0x100000 || k.load_addr + k.mem_size > 0x100000000ull)
        die("kernel '%s' must load between 1 MiB and 4 GiB (link it at 0x400000)", a.kernel);

    std::vector<uint8_t> fat = read_file("FAT partition", a.fat);
    if (fat.size() < 64 * kSector || fat.size() % kSector)
        die("FAT partition '%s' must be a whole number of sectors (at least 64)", a.fat);
    if (std::memcmp(fat.data() + 54, "FAT16   ", 8) != 0)
        die("'%s' is not a FAT16 file system (make it with mkfs.fat -F 16)", a.fat);

    std::vector<uint8_t> symtab = build_symtab(k);
    if (BF_SYMTAB_ADDR(k.load_addr, k.mem_size) + symtab.size() > 0x100000000ull)
        die("kernel '%s' and its symbol table must end below 4 GiB", a.kernel);
    // The load image as stored: one LZ4 block, checked by decoding it again with the decoder
    // stage 2 mirrors (a compressor or decoder bug fails the build, not the boot).
    std::vector<uint8_t> packed;
    if (a.lz4) {
        packed = lz4_compress(k.image.data(), k.image.size(), a.lz4_level);
        if (packed.empty()) die("kernel '%s': LZ4 compression failed", a.kernel);
        std::vector<uint8_t> check(k.image.size());
        Lz4Result r = lz4_decode(packed.data(), packed.size(), check.data(), check.size());
        if (r.error != Lz4Error::kOk || check != k.image)
            die("kernel '%s': the LZ4 block does not decode to the image (%s)", a.kernel,
                lz4_error_text(r.error));
        if (BF_PACKED_ADDR(k.load_addr, k.mem_size, symtab.size()) + packed.size() > 0x100000000ull)
            die("kernel '%s': its packed bytes would not fit below 4 GiB while loading", a.kernel);
    }
    // The payload: load image (or its LZ4 block), padded to a sector, then the symbol table.
    std::vector<uint8_t> payload = a.lz4 ? packed : k.image;
    payload.resize(align_up(payload.size(), kSector), 0);
    payload.insert(payload.end(), symtab.begin(), symtab.end());

    // Layout.
    uint32_t p1_lba = kAlign, p1_n = uint32_t(fat.size() / kSector);
    uint32_t p2_lba = align_up(uint64_t(p1_lba) + p1_n, kAlign);
    uint32_t need = 1 + align_up(payload.size(), kSector) / kSector;
    uint32_t p2_n = a.kernel_mib ? a.kernel_mib * 2048 : align_up(need + need / 8, kAlign);
    if (need > p2_n)
        die("kernel '%s' needs %s MiB but the kernel partition holds " + std::to_string(a.kernel_mib) +
                " MiB (raise --kernel-mib)",
            a.kernel, std::to_string((need + 2047) / 2048));

    bf_kernel_header h{};
    std::memcpy(h.magic, BF_KHDR_MAGIC, 8);
    h.version = BF_KHDR_VERSION;
    h.load_addr = k.load_addr;
    h.file_size = k.image.size();
    h.mem_size = k.mem_size;
    h.entry = k.entry;
    h.symtab_size = symtab.size();
    if (a.lz4) {
        h.flags = BF_KHDR_LZ4;
        h.packed_size = packed.size();
        h.packed_crc = crc32(packed.data(), packed.size());
    }
    // CRC over exactly what stage 2 reads: the image bytes, then the symbol table bytes.
    h.image_crc = crc32(symtab.data(), symtab.size(), crc32(k.image.data(), k.image.size()));
    std::memcpy(h.cmdline, a.cmdline.c_str(), a.cmdline.size() + 1);
    h.header_crc = crc32(&h, sizeof h);

    uint32_t sig = h.image_crc ^ 0x42464c57u;  // deterministic per kernel
    std::memcpy(mbr.data() + 0x1B8, &sig, 4);
    std::memset(mbr.data() + 0x1BE, 0, 64);
    put_partition(mbr.data(), 0, true, 0x0E, p1_lba, p1_n);
    put_partition(mbr.data(), 1, false, BF_KERNEL_PART_TYPE, p2_lba, p2_n);

    // Write a temporary file, then rename it over the target.
    std::string tmp = a.out + ".tmp";
    FILE *f = std::fopen(tmp.c_str(), "wb");
    if (!f) die("cannot create '%s': %s", tmp, std::strerror(errno));
    auto put = [&](uint64_t lba, const void *p, size_t n) {
        if (std::fseek(f, long(lba * kSector), SEEK_SET) || std::fwrite(p, 1, n, f) != n)
            die("cannot write '%s': %s", tmp, std::strerror(errno));
    };
    put(0, mbr.data(), kSector);
    put(kStage2Lba, stage2.data(), stage2.size());
    put(p1_lba, fat.data(), fat.size());
    put(p2_lba, &h, sizeof h);
    put(p2_lba + 1, payload.data(), payload.size());
    static const uint8_t zero = 0;  // extend the file to the end of partition 2 (sparse)
    if (std::fseek(f, long((uint64_t(p2_lba) + p2_n) * kSector - 1), SEEK_SET) ||
        std::fwrite(&zero, 1, 1, f) != 1 || std::fflush(f) || fsync(fileno(f)) || std::fclose(f))
        die("cannot finish '%s': %s", tmp, std::strerror(errno));
    if (std::rename(tmp.c_str(), a.out.c_str()))
        die("cannot rename '%s': %s", tmp, std::strerror(errno));
    std::string lz = a.lz4 ? " (LZ4: " + std::to_string(packed.size() / 1024) + " KiB)" : "";
    std::printf("mkimage: %s: FAT16 %u MiB at LBA %u, kernel %zu KiB%s (load 0x%llx, entry 0x%llx) "
                "+ %zu symbol entries (%zu KiB) in %u MiB at LBA %u\n",
                a.out.c_str(), p1_n / 2048, p1_lba, k.image.size() / 1024, lz.c_str(),
                (unsigned long long)k.load_addr, (unsigned long long)k.entry,
                size_t(reinterpret_cast<const bf_symtab_header *>(symtab.data())->count),
                symtab.size() / 1024, p2_n / 2048, p2_lba);
    return 0;
}
