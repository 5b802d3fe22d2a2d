// kernel_lib's public interface for the app (direct calls, no syscall cost).
#pragma once
#include <stddef.h>
#include <stdint.h>

namespace bf {

// True when started by stage 2 (the unikernel); false when run as a Linux process.
bool bare_metal();

// Console: serial + VGA on bare metal, stdout when hosted.
void console_write(const char *s, size_t n);
void console_write_diagnostic(const char *s, size_t n);  // stderr: starts a fresh line if needed
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
