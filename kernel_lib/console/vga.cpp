// VGA text mode, 80x25 at 0xB8000, scrolling. Light grey on black. Understands the bytes the
// console's line discipline echoes: BS moves back (to the end of the previous row from column 0,
// so "\b \b" erases across a wrapped line), TAB advances to the next multiple of 8, CR is ignored.
// The blinking hardware cursor follows the text (sync_cursor, once per console write).
#include "console.h"
#include "../arch/x86_64/cpu.h"

namespace bf::vga {

namespace {
constexpr int kCols = 80, kRows = 25;
constexpr uint16_t kCrtcIndex = 0x3D4, kCrtcData = 0x3D5;
volatile uint16_t *const kText = reinterpret_cast<volatile uint16_t *>(0xB8000);
int row, col;

void scroll() {
    for (int i = 0; i < (kRows - 1) * kCols; i++) kText[i] = kText[i + kCols];
    for (int i = (kRows - 1) * kCols; i < kRows * kCols; i++) kText[i] = 0x0720;
    row = kRows - 1;
}

void put_glyph(char c) {
    kText[row * kCols + col] = uint16_t(0x0700 | uint8_t(c));
    if (++col == kCols) {
        col = 0;
        if (++row == kRows) scroll();
    }
}
}  // namespace

void init() {
    for (int i = 0; i < kRows * kCols; i++) kText[i] = 0x0720;
    row = col = 0;
    sync_cursor();
}

void putc(char c) {
    switch (c) {
    case '\n':
        col = 0;
        if (++row == kRows) scroll();
        return;
    case '\r':
        return;
    case '\b':
        if (col > 0) col--;
        else if (row > 0) row--, col = kCols - 1;
        return;
    case '\t':
        do put_glyph(' ');
        while (col % 8);
        return;
    default:
        put_glyph(c);
    }
}

void sync_cursor() {
    const uint16_t pos = uint16_t(row * kCols + col);
    cpu::outb(kCrtcIndex, 0x0F);
    cpu::outb(kCrtcData, uint8_t(pos));
    cpu::outb(kCrtcIndex, 0x0E);
    cpu::outb(kCrtcData, uint8_t(pos >> 8));
}

}  // namespace bf::vga
