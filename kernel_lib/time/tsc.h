#pragma once
#include <stdint.h>

namespace bf {
void tsc_init();
uint64_t tsc_to_us(uint64_t ticks);  // 0 until tsc_init has a frequency
}  // namespace bf
