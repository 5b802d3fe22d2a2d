// The console: on bare metal every byte goes to COM1 (with CRLF) and the VGA text screen;
// hosted, it goes to stdout.
#include "bareflow/kernel.h"
#include "console.h"
#include "../hosted/hosted.h"

namespace bf {

void console_write(const char *s, size_t n) {
    if (!bare_metal()) {
        hosted::write_stdout(s, n);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\n') serial::putc('\r');
        serial::putc(s[i]);
        vga::putc(s[i]);
    }
    vga::sync_cursor();
}

}  // namespace bf
