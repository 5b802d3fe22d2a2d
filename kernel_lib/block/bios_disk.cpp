// INT 13h extensions (AH=42h read, 43h write, 48h parameters) from long mode, through the
// trampoline in bios_trampoline.asm. Data goes through a 64 KiB bounce buffer below 1 MiB; after an
// error the transfer size halves, then single sectors get 3 tries with a drive reset in between.
#include "../arch/x86_64/cpu.h"
#include "../mm/paging.h"
#include "../syscall/errno.h"
#include "bareflow/kernel.h"
#include "block.h"

extern "C" const uint8_t bios_trampoline_blob[], bios_trampoline_blob_end[];

namespace bf::bios {

namespace {

constexpr uint64_t kBase = 0x8000, kData = kBase + 0x1000, kBounce = 0x20000;
constexpr uint16_t kBounceSeg = kBounce >> 4;
constexpr uint32_t kMaxChunk = 127;  // sectors per call: some BIOSes take no more

struct __attribute__((packed)) Regs {  // the trampoline's data page, offset 0
    uint16_t ax, bx, cx, dx, si, flags;
    uint8_t pad[4];
    struct __attribute__((packed)) {
        uint8_t size, zero;
        uint16_t count, offset, segment;
        uint64_t lba;
    } dap;
};

volatile Regs *const regs = reinterpret_cast<volatile Regs *>(kData);
uint8_t drive;
uint32_t chunk = kMaxChunk;
uint64_t total_sectors, ncalls;
bool ready;

bool call() {  // true when CF is clear
    ncalls++;
    // The trampoline enables interrupts for the BIOS: with IRQ1 masked at the PIC, the BIOS's
    // keyboard handler cannot take keys typed meanwhile; they wait for the console's poller.
    const uint8_t pic_mask = cpu::inb(0x21);
    cpu::outb(0x21, pic_mask | 0x02);
    reinterpret_cast<void (*)()>(kBase)();
    cpu::outb(0x21, pic_mask);
    return !(regs->flags & 1);
}

void reset() {
    regs->ax = 0;
    regs->dx = drive;
    call();
}

// One transfer of n <= kMaxChunk sectors between the bounce buffer and the disk.
bool transfer(bool write, uint64_t lba, uint32_t n) {
    regs->dap.size = 16;
    regs->dap.zero = 0;
    regs->dap.count = uint16_t(n);
    regs->dap.offset = 0;
    regs->dap.segment = kBounceSeg;
    regs->dap.lba = lba;
    regs->ax = write ? 0x4300 : 0x4200;
    regs->dx = drive;
    regs->si = uint16_t(kData + 16);
    return call();
}

int io(bool write, uint64_t lba, uint32_t count, uint8_t *buf) {
    if (!ready) return -kEIO;
    uint8_t *bounce = reinterpret_cast<uint8_t *>(kBounce);
    while (count) {
        uint32_t n = count < chunk ? count : chunk;
        if (write) cpu::copy_bytes(bounce, buf, uint64_t(n) * 512);
        int tries = 0;
        while (!transfer(write, lba, n)) {
            uint8_t status = uint8_t(regs->ax >> 8);
            reset();
            if (n > 1) {
                chunk = n = n / 2;  // smaller transfers from now on
                if (write) cpu::copy_bytes(bounce, buf, uint64_t(n) * 512);
                continue;
            }
            if (++tries == 3) {
                kprintf("bios: %s of LBA %lu failed, INT 13h status 0x%02x\n",
                        write ? "write" : "read", (unsigned long)lba, status);
                return -kEIO;
            }
        }
        if (!write) cpu::copy_bytes(buf, bounce, uint64_t(n) * 512);
        lba += n;
        buf += uint64_t(n) * 512;
        count -= n;
    }
    return 0;
}

}  // namespace

bool init(uint8_t d) {
    drive = d;
    uint64_t size = uint64_t(bios_trampoline_blob_end - bios_trampoline_blob);
    for (uint64_t p = kBase; p < kBase + size; p += 4096)
        paging::protect(p, paging::kRead | paging::kWrite);
    cpu::copy_bytes(reinterpret_cast<void *>(kBase), bios_trampoline_blob, size);
    paging::protect(kBase, paging::kRead | paging::kExec);  // code page: W^X
    regs->ax = 0x4100;  // EDD installation check
    regs->bx = 0x55AA;
    regs->dx = drive;
    if (!call() || regs->bx != 0xAA55 || !(regs->cx & 1)) return false;
    struct __attribute__((packed)) Params {
        uint16_t size, flags;
        uint32_t cyl, heads, spt;
        uint64_t sectors;
        uint16_t bytes_per_sector;
    };
    ready = true;
    // AH=48h fills DS:SI, and the trampoline runs with DS = 0: use a spot in its data page.
    auto *low = reinterpret_cast<volatile Params *>(kData + 0x200);
    low->size = 0x1A;
    regs->si = uint16_t(kData + 0x200);
    regs->ax = 0x4800;
    regs->dx = drive;
    total_sectors = call() ? low->sectors : 0;
    return true;
}

int read(uint64_t lba, uint32_t count, void *buf) {
    return io(false, lba, count, static_cast<uint8_t *>(buf));
}
int write(uint64_t lba, uint32_t count, const void *buf) {
    return io(true, lba, count, const_cast<uint8_t *>(static_cast<const uint8_t *>(buf)));
}
uint64_t sectors() { return total_sectors; }
uint64_t calls() { return ncalls; }

}  // namespace bf::bios
