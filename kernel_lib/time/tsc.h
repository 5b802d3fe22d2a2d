#pragma once
#include <stdint.h>

namespace bf {
void tsc_init();
uint64_t tsc_to_us(uint64_t ticks);  // 0 until tsc_init has a frequency
}  // namespace bf

namespace bf {
void clock_init(uint64_t tsc_at_entry);  // monotonic zero; reads the CMOS real-time clock
uint64_t monotonic_ns();                 // since kernel entry
uint64_t realtime_at_boot_ns();          // Unix time at kernel entry (CMOS RTC), 0 if unreadable
}  // namespace bf
