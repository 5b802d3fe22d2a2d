// Function names for addresses in the kernel image, from the table mkimage embeds (the ELF's own
// symbol table, demangled). Used by panic backtraces; works before glibc is initialized.
#pragma once
#include <stdint.h>

namespace bf {

// The table stage 2 loaded at [addr, addr + size); checked, and ignored if malformed.
void symbols_init(uint64_t addr, uint64_t size);
// The function containing pc and the offset into it; nullptr if unknown.
const char *symbolize(uint64_t pc, uint64_t *offset);
uint32_t symbol_count();

}  // namespace bf
