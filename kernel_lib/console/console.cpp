// The console: on bare metal every byte goes to COM1 (with CRLF) and the VGA text screen;
// hosted, it goes to stdout.
#include "bareflow/kernel.h"
#include "console.h"
#include "../hosted/hosted.h"

namespace bf {

namespace {
char last_char = '\n';  // the last byte written (bare metal)
}

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
    if (n) last_char = s[n - 1];
    vga::sync_cursor();
}

// stdout and stderr share the one console on bare metal: a diagnostic line (a JIT swap, say)
// arriving while streamed output (generated text) is mid-line starts on a line of its own
// instead of running into the text.
void console_write_diagnostic(const char *s, size_t n) {
    if (bare_metal() && n && last_char != '\n') console_write("\n", 1);
    console_write(s, n);
}

}  // namespace bf
