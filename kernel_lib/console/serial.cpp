// COM1 (the console) and COM2 (the records channel, when one answers), 115200 8N1, polled. The
// bounded wait keeps a PC without a UART from hanging.
#include "console.h"
#include "../arch/x86_64/cpu.h"

namespace bf::serial {

constexpr uint16_t kCom1 = 0x3F8, kCom2 = 0x2F8;

namespace {
uint8_t typeahead[16];  // bytes that arrived before init; FIFO setup would have dropped them
int ta_len, ta_pos;
bool com2;

void setup(uint16_t base) {
    using cpu::outb;
    outb(base + 1, 0x00);  // no interrupts
    outb(base + 3, 0x80);  // DLAB
    outb(base + 0, 0x01);  // divisor 1: 115200
    outb(base + 1, 0x00);
    outb(base + 3, 0x03);  // 8N1
    outb(base + 2, 0xC5);  // FIFO on (resets both FIFOs if it was off)
    outb(base + 4, 0x03);  // DTR, RTS
}

void put(uint16_t base, char c) {
    for (int i = 0; i < 100000 && !(cpu::inb(base + 5) & 0x20); i++) {
    }
    cpu::outb(base, uint8_t(c));
}

// A UART answers when its scratch register keeps a value and, in loopback mode, a byte sent
// comes back. With no chip the bus floats (reads 0xFF), so both checks fail within a few reads.
bool answers(uint16_t base) {
    using cpu::inb;
    using cpu::outb;
    const uint8_t probes[] = {0x5A, 0xA5};
    for (uint8_t v : probes) {
        outb(base + 7, v);
        if (inb(base + 7) != v) return false;
    }
    setup(base);
    outb(base + 4, 0x1E);  // loopback, OUT1, OUT2, RTS
    while (inb(base + 5) & 1) inb(base);  // nothing stale in the receiver
    outb(base, 0xAE);
    bool ok = false;
    for (int i = 0; i < 10000 && !ok; i++) ok = inb(base + 5) & 1;
    ok = ok && inb(base) == 0xAE;
    outb(base + 4, 0x03);  // back to normal operation: DTR, RTS
    return ok;
}
}  // namespace

void init() {
    while (ta_len < int(sizeof typeahead) && (cpu::inb(kCom1 + 5) & 1))
        typeahead[ta_len++] = cpu::inb(kCom1);
    setup(kCom1);
    com2 = answers(kCom2);
}

void putc(char c) { put(kCom1, c); }

bool com2_present() { return com2; }

void putc2(char c) {
    if (com2) put(kCom2, c);
}

int getc_nowait() {
    if (ta_pos < ta_len) return typeahead[ta_pos++];
    if (cpu::inb(kCom1 + 5) & 1) return cpu::inb(kCom1);
    return -1;
}

}  // namespace bf::serial
