#include "pci.h"

#include "../arch/x86_64/cpu.h"

namespace bf::pci {

namespace {
uint32_t address(uint8_t bus, uint8_t dev, uint8_t fn, uint8_t off) {
    return 0x80000000u | (uint32_t(bus) << 16) | (uint32_t(dev) << 11) | (uint32_t(fn) << 8) |
           (off & 0xFC);
}
uint32_t inl(uint16_t port) {
    uint32_t v;
    asm volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}
}  // namespace

uint32_t read32(uint8_t bus, uint8_t dev, uint8_t fn, uint8_t off) {
    cpu::outl(0xCF8, address(bus, dev, fn, off));
    return inl(0xCFC);
}

void write32(uint8_t bus, uint8_t dev, uint8_t fn, uint8_t off, uint32_t v) {
    cpu::outl(0xCF8, address(bus, dev, fn, off));
    cpu::outl(0xCFC, v);
}

int scan(Device *out, int max) {
    int found = 0;
    for (int bus = 0; bus < 256; bus++)
        for (uint8_t dev = 0; dev < 32; dev++) {
            uint32_t id0 = read32(uint8_t(bus), dev, 0, 0);
            if ((id0 & 0xFFFF) == 0xFFFF) continue;
            bool multi = (read32(uint8_t(bus), dev, 0, 0x0C) >> 16) & 0x80;
            for (uint8_t fn = 0; fn < (multi ? 8 : 1); fn++) {
                uint32_t id = read32(uint8_t(bus), dev, fn, 0);
                if ((id & 0xFFFF) == 0xFFFF) continue;
                uint32_t cl = read32(uint8_t(bus), dev, fn, 0x08);
                if (found < max)
                    out[found] = Device{uint8_t(bus), dev, fn, uint16_t(id), uint16_t(id >> 16),
                                        uint8_t(cl >> 24), uint8_t(cl >> 16), uint8_t(cl >> 8)};
                found++;
            }
        }
    return found;
}

const char *class_name(uint8_t cls, uint8_t sub) {
    switch (cls) {
    case 0x01:
        switch (sub) {
        case 0x01: return "IDE controller";
        case 0x06: return "SATA controller";
        case 0x08: return "NVMe controller";
        case 0x00: return "SCSI controller";
        default: return "storage controller";
        }
    case 0x02: return "network controller";
    case 0x03: return "display controller";
    case 0x04: return "multimedia controller";
    case 0x05: return "memory controller";
    case 0x06:
        switch (sub) {
        case 0x00: return "host bridge";
        case 0x01: return "ISA bridge";
        case 0x04: return "PCI bridge";
        default: return "bridge";
        }
    case 0x07: return "communication controller";
    case 0x08: return "system peripheral";
    case 0x0C:
        if (sub == 0x03) return "USB controller";
        if (sub == 0x05) return "SMBus controller";
        return "serial bus controller";
    case 0xFF: return "unassigned class";
    default: return "device";
    }
}

}  // namespace bf::pci
