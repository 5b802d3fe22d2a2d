#include "storage.h"

#include "../syscall/errno.h"
#include "bareflow/kernel.h"
#include "block.h"

namespace bf::storage {

namespace {

Backend which = Backend::kNone;
uint32_t base, count;

bool inside(uint64_t lba, uint32_t n) { return lba < count && n <= count - lba; }

int part_read(void *, uint64_t lba, uint32_t n, void *buf) {
    if (!inside(lba, n)) return -kEIO;
    return which == Backend::kVirtio ? virtio_blk::read(base + lba, n, buf)
                                     : bios::read(base + lba, n, buf);
}
int part_write(void *, uint64_t lba, uint32_t n, const void *buf) {
    if (!inside(lba, n)) return -kEIO;
    return which == Backend::kVirtio ? virtio_blk::write(base + lba, n, buf)
                                     : bios::write(base + lba, n, buf);
}
int part_flush(void *) { return which == Backend::kVirtio ? virtio_blk::flush() : 0; }

fs::BlockDev dev{nullptr, part_read, part_write, part_flush, 0};

bool same(const char *a, const char *b) {
    while (*a && *a == *b) a++, b++;
    return *a == *b;
}

}  // namespace

Backend init(uint8_t drive, uint32_t sig, uint32_t part_lba, uint32_t part_sectors,
             const char *force) {
    base = part_lba;
    count = part_sectors;
    dev.sectors = part_sectors;
    bool want_virtio = !force || same(force, "virtio"), want_bios = !force || same(force, "bios");
    if (want_virtio && virtio_blk::init(sig)) {
        which = Backend::kVirtio;
        kprintf("storage: boot disk on virtio-blk %s (native driver), %lu MiB\n",
                virtio_blk::location(), (unsigned long)(virtio_blk::sectors() >> 11));
    } else if (want_bios && bios::init(drive)) {
        which = Backend::kBios;
        kprintf("storage: boot disk through BIOS INT 13h, drive 0x%02x, %lu MiB%s\n", drive,
                (unsigned long)(bios::sectors() >> 11),
                force ? " (forced)" : " (no virtio-blk device holds the boot disk)");
    } else {
        kprintf("storage: the boot disk is unreachable (%s): no files\n",
                force ? "forced driver not available" : "no virtio-blk match, no INT 13h extensions");
    }
    // A partition table entry that points past the disk (a truncated image, a damaged MBR) is
    // said as such here, rather than as the file system's "read error at LBA 0" later.
    const uint64_t disk = which == Backend::kVirtio ? virtio_blk::sectors()
                          : which == Backend::kBios ? bios::sectors() : 0;
    if (disk && count && (base >= disk || count > disk - base)) {
        kprintf("storage: partition 1 (LBA %u, %u sectors) %s the disk's end (%lu sectors): no files\n",
                base, count, base >= disk ? "starts past" : "runs past", (unsigned long)disk);
        count = 0;
        dev.sectors = 0;
    }
    return which;
}

Backend backend() { return which; }
const char *backend_name() {
    return which == Backend::kVirtio ? "virtio-blk" : which == Backend::kBios ? "bios" : "none";
}
const fs::BlockDev &partition() { return dev; }

}  // namespace bf::storage
