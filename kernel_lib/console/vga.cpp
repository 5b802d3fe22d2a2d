// VGA text mode, 80x25 at 0xB8000, scrolling. Light grey on black.
#include "console.h"

namespace bf::vga {

namespace {
constexpr int kCols = 80, kRows = 25;
volatile uint16_t *const kText = reinterpret_cast<volatile uint16_t *>(0xB8000);
int row, col;

void scroll() {
    for (int i = 0; i < (kRows - 1) * kCols; i++) kText[i] = kText[i + kCols];
    for (int i = (kRows - 1) * kCols; i < kRows * kCols; i++) kText[i] = 0x0720;
    row = kRows - 1;
}
}  // namespace

void init() {
    for (int i = 0; i < kRows * kCols; i++) kText[i] = 0x0720;
    row = col = 0;
}

void putc(char c) {
    if (c == '\n') {
        col = 0;
        if (++row == kRows) scroll();
        return;
    }
    if (c == '\r') return;
    kText[row * kCols + col] = uint16_t(0x0700 | uint8_t(c));
    if (++col == kCols) {
        col = 0;
        if (++row == kRows) scroll();
    }
}

}  // namespace bf::vga
