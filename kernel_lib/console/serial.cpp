// COM1, 115200 8N1, polled. The bounded wait keeps a PC without a UART from hanging.
#include "console.h"
#include "../arch/x86_64/cpu.h"

namespace bf::serial {

constexpr uint16_t kCom1 = 0x3F8;

namespace {
uint8_t typeahead[16];  // bytes that arrived before init; FIFO setup would have dropped them
int ta_len, ta_pos;
}  // namespace

void init() {
    using cpu::outb;
    while (ta_len < int(sizeof typeahead) && (cpu::inb(kCom1 + 5) & 1))
        typeahead[ta_len++] = cpu::inb(kCom1);
    outb(kCom1 + 1, 0x00);  // no interrupts
    outb(kCom1 + 3, 0x80);  // DLAB
    outb(kCom1 + 0, 0x01);  // divisor 1: 115200
    outb(kCom1 + 1, 0x00);
    outb(kCom1 + 3, 0x03);  // 8N1
    outb(kCom1 + 2, 0xC5);  // FIFO on (resets both FIFOs if it was off: drained above)
    outb(kCom1 + 4, 0x03);  // DTR, RTS
}

void putc(char c) {
    for (int i = 0; i < 100000 && !(cpu::inb(kCom1 + 5) & 0x20); i++) {
    }
    cpu::outb(kCom1, uint8_t(c));
}

int getc_nowait() {
    if (ta_pos < ta_len) return typeahead[ta_pos++];
    if (cpu::inb(kCom1 + 5) & 1) return cpu::inb(kCom1);
    return -1;
}

}  // namespace bf::serial
