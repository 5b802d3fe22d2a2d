// Disk access for the boot disk: BIOS INT 13h through a real-mode trampoline (works wherever the
// BIOS can boot from, USB sticks included) or a native virtio-blk driver (fast, QEMU). The file
// system sees either through bf::fs::BlockDev (kernel_lib/fs/fat16.h).
#pragma once
#include <stdint.h>

namespace bf::bios {
bool init(uint8_t drive);  // installs the trampoline; false if the drive has no EDD
int read(uint64_t lba, uint32_t count, void *buf);         // 0 or -EIO
int write(uint64_t lba, uint32_t count, const void *buf);  // 0 or -EIO
uint64_t sectors();        // from INT 13h AH=48h, 0 if unknown
uint64_t calls();          // INT 13h calls made (for the benchmark)
}  // namespace bf::bios

namespace bf::virtio_blk {
// Finds a virtio-blk PCI device whose sector 0 carries the disk signature; false if none.
bool init(uint32_t disk_signature);
int read(uint64_t lba, uint32_t count, void *buf);
int write(uint64_t lba, uint32_t count, const void *buf);
int flush();
uint64_t sectors();
const char *location();    // "00:03.0"
}  // namespace bf::virtio_blk
