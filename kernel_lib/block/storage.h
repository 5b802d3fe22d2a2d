// The boot disk: which driver reaches it, and partition 1 (FAT16) as a block device.
#pragma once
#include <stdint.h>

#include "../fs/fat16.h"

namespace bf::storage {

enum class Backend { kNone, kVirtio, kBios };

// force: "virtio", "bios" or nullptr (virtio if the boot disk is there, else BIOS).
// part_lba/part_sectors: partition 1 as stage 2 found it.
Backend init(uint8_t bios_drive, uint32_t disk_signature, uint32_t part_lba,
             uint32_t part_sectors, const char *force);
Backend backend();
const char *backend_name();
// Partition 1: LBA 0 is its first sector; I/O outside it fails with -EIO.
const fs::BlockDev &partition();

}  // namespace bf::storage
