// Extended CPU state: turns on every user state component the CPU offers (x87, SSE, AVX, AVX-512,
// AMX) in XCR0. LLVM and glibc detect AVX only if XCR0 & 0x6 == 0x6 and AVX-512 only if
// XCR0 & 0xE0 == 0xE0: without this the JIT would silently emit SSE code.
#pragma once
#include <stdint.h>

namespace bf::simd {

void init();
void init_ap();              // an application processor: the BSP's CR4.OSXSAVE and XCR0
bool xsave_enabled();          // else the syscall path uses FXSAVE
uint64_t xcr0();               // 0 without XSAVE
uint64_t save_area_size();     // bytes XSAVE (or FXSAVE) needs for the enabled state

}  // namespace bf::simd
