// PCI configuration space through I/O ports 0xCF8/0xCFC (mechanism #1): enumeration for the
// discovery report, and config access for drivers (virtio-blk, with the storage layer).
#pragma once
#include <stdint.h>

namespace bf::pci {

struct Device {
    uint8_t bus, dev, fn;
    uint16_t vendor, device;
    uint8_t cls, subcls, progif;
};

uint32_t read32(uint8_t bus, uint8_t dev, uint8_t fn, uint8_t off);
void write32(uint8_t bus, uint8_t dev, uint8_t fn, uint8_t off, uint32_t v);

// Every function on buses 0..255; returns how many were found (at most max are stored).
int scan(Device *out, int max);
const char *class_name(uint8_t cls, uint8_t subcls);

}  // namespace bf::pci
