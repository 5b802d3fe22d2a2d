// kernel_lib's public interface for the app (direct calls, no syscall cost).
#pragma once
#include <stddef.h>
#include <stdint.h>

namespace bf {

// True when started by stage 2 (the unikernel); false when run as a Linux process.
bool bare_metal();

// Console: serial + VGA on bare metal, stdout when hosted.
void console_write(const char *s, size_t n);
// stderr (hosted: fd 2): starts a fresh line if needed; waits during a hold.
void console_write_diagnostic(const char *s, size_t n);
// While a generation streams (bare metal): stderr output and COM1 records wait, and follow the
// text at console_release (also called when the console next waits for input, and at exit).
void console_hold();
void console_release();

// The longest console input line (bytes before the newline): the bare-metal line discipline and
// the hosted REPL refuse longer lines with the message BF_LINE_TOO_LONG (its %zu: the line's length).
constexpr size_t kMaxInputLine = 4096;
#define BF_LINE_TOO_LONG "line too long (%zu bytes), ignored\n"

// The boot's details kept back from the short summary (memory map, cache table, PCI list, TSC and
// load timing): printed once, for `verbose = 1` (docs/config.md).
void boot_details_print();

// JSON records (docs/records.md), one object per line, on a channel of their own. Bare metal:
// COM2 when a second UART answers, else COM1 (never the VGA screen) after the human output of each
// phase; `records = com1|com2|off` (the app's settings) overrides. Hosted: stderr (or off).
// Until the app configures the channel, records wait (the setting may still say off or com1).
enum class RecordsChannel : uint8_t { Auto, Com1, Com2, Off };
void records_configure(RecordsChannel c);
RecordsChannel records_channel();  // where records go now: Com1, Com2 or Off (hosted: Com2 = stderr)
void record_write(const char *s, size_t n);   // bytes of records (whole lines, or pieces in order)
int krecordf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));  // kprintf's subset
void records_flush();                         // end of a phase: records waiting for COM1 go out
// printf subset that needs no libc: %d %i %u %x %X %p %s %c %%, with l/ll/z, width, '0', '-'.
int kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

// Timestamp counter: frequency and where it came from ("cpuid-0x15", "hypervisor", "pit").
uint64_t tsc_hz();
const char *tsc_source();

// Microseconds since the first MBR instruction (bare metal; 0 when hosted).
uint64_t us_since_power_on();

// Ends the run: QEMU exits with `status` through isa-debug-exit; a real PC halts.
[[noreturn]] void shutdown(int status);

}  // namespace bf
