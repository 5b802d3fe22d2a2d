// Console back ends. Callers use bf::console_write / bf::kprintf (include/bareflow/kernel.h).
#pragma once
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

namespace bf::serial {
void init();         // COM1, and COM2 if a second UART answers (probed)
void putc(char c);   // COM1
int getc_nowait();   // a byte received on COM1, or -1
bool com2_present();
void putc2(char c);  // COM2 (dropped when absent)
}  // namespace bf::serial

namespace bf::vga {
void init();
void putc(char c);    // also BS (back one cell), TAB, CR (ignored), LF
void sync_cursor();  // moves the hardware cursor to where the next byte goes
}  // namespace bf::vga

namespace bf {
// Formats into buf (always NUL-terminated when cap > 0); returns the full length.
int kvsnprintf(char *buf, size_t cap, const char *fmt, va_list ap);
// A boot detail (memory map, caches, PCI devices, timing): kept, not printed; the program prints
// them with boot_details_print() (kernel.h) when `verbose = 1`.
int kdetailf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
}  // namespace bf
