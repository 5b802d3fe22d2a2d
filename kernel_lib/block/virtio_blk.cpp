// virtio-blk over the legacy (transitional) PCI interface: I/O-port registers, one split
// virtqueue, polled completion. Requests go through a 64 KiB bounce buffer in the kernel's BSS,
// which is identity-mapped, so its virtual address is the physical address the device needs.
#include "../arch/x86_64/cpu.h"
#include "../arch/x86_64/panic.h"
#include "../hw/pci.h"
#include "../syscall/errno.h"
#include "bareflow/kernel.h"
#include "block.h"

namespace bf::virtio_blk {

namespace {

// Legacy register offsets from BAR0.
constexpr uint16_t kHostFeatures = 0x00, kGuestFeatures = 0x04, kQueuePfn = 0x08,
                   kQueueSize = 0x0C, kQueueSelect = 0x0E, kQueueNotify = 0x10, kStatus = 0x12,
                   kIsr = 0x13, kConfig = 0x14;
constexpr uint8_t kAck = 1, kDriver = 2, kDriverOk = 4, kFailed = 128;
constexpr uint32_t kFeatureFlush = 1u << 9;
constexpr uint16_t kDescNext = 1, kDescWrite = 2;
constexpr uint32_t kTypeIn = 0, kTypeOut = 1, kTypeFlush = 4;
constexpr uint32_t kMaxQueue = 256, kBounceSectors = 128;

struct Desc { uint64_t addr; uint32_t len; uint16_t flags, next; };
struct Req { uint32_t type, reserved; uint64_t sector; };

// Legacy layout: descriptors, available ring, then (page-aligned) the used ring.
alignas(4096) uint8_t ring[4096 * 3 + 4096 * 2];
alignas(4096) uint8_t bounce[kBounceSectors * 512];
Req req;
volatile uint8_t status_byte;

uint16_t io, qsize, last_used;
Desc *desc;
volatile uint16_t *avail;  // flags, idx, ring[qsize]
volatile uint8_t *used;    // flags, idx, ring[qsize] of {u32 id, u32 len}
uint64_t capacity;
bool ready, can_flush;
char where[8];

uint32_t inl(uint16_t p) {
    uint32_t v;
    asm volatile("inl %1, %0" : "=a"(v) : "Nd"(p));
    return v;
}
uint16_t inw(uint16_t p) {
    uint16_t v;
    asm volatile("inw %1, %0" : "=a"(v) : "Nd"(p));
    return v;
}
void outw(uint16_t p, uint16_t v) { asm volatile("outw %0, %1" ::"a"(v), "Nd"(p)); }

// One request: header, optional data (n sectors in the bounce buffer), status.
int submit(uint32_t type, uint64_t lba, uint32_t n) {
    req = Req{type, 0, lba};
    status_byte = 0xFF;
    desc[0] = Desc{uint64_t(&req), sizeof req, kDescNext, uint16_t(n ? 1 : 2)};
    if (n)
        desc[1] = Desc{uint64_t(bounce), n * 512,
                       uint16_t(kDescNext | (type == kTypeIn ? kDescWrite : 0)), 2};
    desc[2] = Desc{uint64_t(&status_byte), 1, kDescWrite, 0};
    uint16_t idx = avail[1];
    avail[2 + idx % qsize] = 0;  // chain head: descriptor 0
    asm volatile("mfence" ::: "memory");
    avail[1] = uint16_t(idx + 1);
    asm volatile("mfence" ::: "memory");
    outw(uint16_t(io + kQueueNotify), 0);
    uint64_t t0 = cpu::rdtsc(), limit = tsc_hz() ? tsc_hz() * 10 : (1ull << 36);  // 10 s
    while (*reinterpret_cast<volatile uint16_t *>(used + 2) == last_used) {
        if (cpu::rdtsc() - t0 > limit) {
            kprintf("virtio-blk: request for LBA %lu timed out\n", (unsigned long)lba);
            return -kEIO;
        }
        asm volatile("pause");
    }
    last_used++;
    cpu::inb(uint16_t(io + kIsr));  // acknowledge
    if (status_byte != 0) {
        kprintf("virtio-blk: request type %u at LBA %lu failed, status %u\n", type,
                (unsigned long)lba, status_byte);
        return -kEIO;
    }
    return 0;
}

bool setup(const pci::Device &d) {
    uint32_t bar0 = pci::read32(d.bus, d.dev, d.fn, 0x10);
    if (!(bar0 & 1)) return false;  // legacy interface needs the I/O BAR
    io = uint16_t(bar0 & ~3u);
    uint32_t cmd = pci::read32(d.bus, d.dev, d.fn, 0x04);
    pci::write32(d.bus, d.dev, d.fn, 0x04, cmd | 0x5);  // I/O space + bus master
    cpu::outb(uint16_t(io + kStatus), 0);              // reset
    cpu::outb(uint16_t(io + kStatus), kAck | kDriver);
    uint32_t features = inl(uint16_t(io + kHostFeatures));
    can_flush = features & kFeatureFlush;
    cpu::outl(uint16_t(io + kGuestFeatures), features & kFeatureFlush);
    outw(uint16_t(io + kQueueSelect), 0);
    qsize = inw(uint16_t(io + kQueueSize));
    if (!qsize || qsize > kMaxQueue) {
        cpu::outb(uint16_t(io + kStatus), kFailed);
        return false;
    }
    for (auto &b : ring) b = 0;
    desc = reinterpret_cast<Desc *>(ring);
    avail = reinterpret_cast<volatile uint16_t *>(ring + 16 * qsize);
    uint64_t used_off = (16ull * qsize + 6 + 2ull * qsize + 4095) & ~4095ull;
    used = ring + used_off;
    last_used = 0;
    cpu::outl(uint16_t(io + kQueuePfn), uint32_t(uint64_t(ring) >> 12));
    cpu::outb(uint16_t(io + kStatus), kAck | kDriver | kDriverOk);
    capacity = uint64_t(inl(uint16_t(io + kConfig))) | (uint64_t(inl(uint16_t(io + kConfig + 4))) << 32);
    ksnprintf(where, sizeof where, "%02x:%02x.%u", d.bus, d.dev, d.fn);
    return true;
}

int transfer(uint32_t type, uint64_t lba, uint32_t count, uint8_t *buf) {
    if (!ready) return -kEIO;
    if (lba + count > capacity || lba + count < lba) return -kEIO;
    while (count) {
        uint32_t n = count < kBounceSectors ? count : kBounceSectors;
        if (type == kTypeOut) cpu::copy_bytes(bounce, buf, uint64_t(n) * 512);
        if (int r = submit(type, lba, n)) return r;
        if (type == kTypeIn) cpu::copy_bytes(buf, bounce, uint64_t(n) * 512);
        lba += n;
        buf += uint64_t(n) * 512;
        count -= n;
    }
    return 0;
}

}  // namespace

bool init(uint32_t disk_signature) {
    constexpr int kMax = 64;
    pci::Device devs[kMax];
    int n = pci::scan(devs, kMax);
    for (int i = 0; i < n && i < kMax; i++) {
        if (devs[i].vendor != 0x1AF4 || devs[i].device != 0x1001) continue;  // transitional blk
        if (!setup(devs[i])) continue;
        ready = true;
        if (submit(kTypeIn, 0, 1) == 0) {
            uint32_t sig;
            cpu::copy_bytes(&sig, bounce + 0x1B8, 4);
            if (sig == disk_signature && bounce[510] == 0x55 && bounce[511] == 0xAA) return true;
        }
        ready = false;
        cpu::outb(uint16_t(io + kStatus), 0);  // not the boot disk: leave it reset
    }
    return false;
}

int read(uint64_t lba, uint32_t count, void *buf) {
    return transfer(kTypeIn, lba, count, static_cast<uint8_t *>(buf));
}
int write(uint64_t lba, uint32_t count, const void *buf) {
    return transfer(kTypeOut, lba, count, const_cast<uint8_t *>(static_cast<const uint8_t *>(buf)));
}
int flush() { return (ready && can_flush) ? submit(kTypeFlush, 0, 0) : 0; }
uint64_t sectors() { return capacity; }
const char *location() { return where; }

}  // namespace bf::virtio_blk
