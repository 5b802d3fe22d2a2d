// The two kernel_lib facts the pool asks for, outside the kernel ELF (unit tests, llm_cli, fuzz
// targets): the process is hosted, and the TSC rate is unknown (the pool then spins a fixed
// number of cycles before it sleeps).
#include <stdint.h>

#include "bareflow/kernel.h"

namespace bf {
bool bare_metal() { return false; }
uint64_t tsc_hz() { return 0; }
}  // namespace bf
