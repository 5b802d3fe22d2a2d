// The console: on bare metal every byte goes to COM1 (with CRLF) and the VGA text screen;
// hosted, it goes to stdout. JSON records take a channel of their own (docs/records.md), and
// while a generation streams the other output waits (console_hold), so the text a person reads
// comes in one piece.
#include "bareflow/kernel.h"
#include "console.h"
#include "../arch/x86_64/cpu.h"
#include "../hosted/hosted.h"

namespace bf {

namespace {
char last_char = '\n';  // the last byte written (bare metal)

// Records wait here until the app has said where they go (records=... may say off or com1) and,
// on COM1, until the end of a phase. Diagnostics wait in `held` during a hold. Both are big
// enough for a boot's worth of records; when one fills up it is written out early, because a
// split phase is better than a lost record.
constexpr size_t kPendingMax = 128 * 1024, kHeldMax = 64 * 1024;
char pending[kPendingMax];
size_t pending_len;
char held[kHeldMax];
size_t held_len;
bool holding;
bool configured;
RecordsChannel setting = RecordsChannel::Auto;

void com1_records(const char *s, size_t n) {
    if (n && last_char != '\n') serial::putc('\r'), serial::putc('\n');  // serial only: VGA never shows them
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\n') serial::putc('\r');
        serial::putc(s[i]);
    }
}

void com2_records(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++) serial::putc2(s[i]);  // LF only: COM2's log is a JSONL file
}

void write_records(const char *s, size_t n) {
    switch (records_channel()) {
    case RecordsChannel::Com2: com2_records(s, n); break;
    case RecordsChannel::Com1: com1_records(s, n); break;
    default: break;
    }
}

void flush_pending() {
    write_records(pending, pending_len);
    pending_len = 0;
}

void emit_held() {
    const size_t n = held_len;
    held_len = 0;
    if (n && last_char != '\n') console_write("\n", 1);
    console_write(held, n);
}
}  // namespace

void console_write(const char *s, size_t n) {
    if (!bare_metal()) {
        hosted::write_fd(1, s, n);
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
// instead of running into the text; during a hold it waits for the end of the text.
void console_write_diagnostic(const char *s, size_t n) {
    if (!bare_metal()) {
        hosted::write_fd(2, s, n);
        return;
    }
    if (holding) {
        if (held_len + n > kHeldMax) emit_held();
        if (n <= kHeldMax) {
            cpu::copy_bytes(held + held_len, s, n);
            held_len += n;
            return;
        }
    }
    if (n && last_char != '\n') console_write("\n", 1);
    console_write(s, n);
}

void console_hold() { holding = bare_metal(); }

void console_release() {
    if (!holding) return;
    holding = false;
    emit_held();
    records_flush();
}

void records_configure(RecordsChannel c) {
    setting = c;
    configured = true;
    if (records_channel() != RecordsChannel::Com1) flush_pending();  // COM2 or off: nothing to wait for
}

RecordsChannel records_channel() {
    if (!bare_metal()) return setting == RecordsChannel::Off ? RecordsChannel::Off : RecordsChannel::Com2;
    if (setting == RecordsChannel::Off || setting == RecordsChannel::Com1) return setting;
    return serial::com2_present() ? RecordsChannel::Com2 : RecordsChannel::Com1;
}

void record_write(const char *s, size_t n) {
    if (!bare_metal()) {  // hosted: stderr, so that stdout carries only the program's output
        if (setting != RecordsChannel::Off) hosted::write_fd(2, s, n);
        return;
    }
    if (configured && records_channel() == RecordsChannel::Com2) {
        com2_records(s, n);
        return;
    }
    if (configured && records_channel() == RecordsChannel::Off) return;
    if (pending_len + n > kPendingMax) flush_pending();
    if (n > kPendingMax) return write_records(s, n);
    cpu::copy_bytes(pending + pending_len, s, n);
    pending_len += n;
}

void records_flush() {
    if (holding || !bare_metal()) return;
    flush_pending();
}

namespace {
constexpr size_t kDetailsMax = 16 * 1024;  // ~200 lines: an E820 map, caches, 64 PCI devices
char details[kDetailsMax];
size_t details_len;
bool details_shown;
}  // namespace

int kdetailf(const char *fmt, ...) {
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    int n = kvsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    for (int i = 0; i < n && i < int(sizeof buf) - 1 && details_len < kDetailsMax; i++)
        details[details_len++] = buf[i];
    return n;
}

void boot_details_print() {
    if (details_shown || !details_len) return;
    details_shown = true;
    console_write("boot details (verbose = 1):\n", 28);
    console_write(details, details_len);
}

int krecordf(const char *fmt, ...) {
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    int n = kvsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    record_write(buf, size_t(n) < sizeof buf ? size_t(n) : sizeof buf - 1);
    return n;
}

}  // namespace bf
