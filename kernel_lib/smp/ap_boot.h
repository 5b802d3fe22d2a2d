// Inside kernel_lib: what the trap handler, the panic path and shutdown need from the SMP code.
#pragma once
#include <stdint.h>

namespace bf::smp {

constexpr uint8_t kWakeVector = 0xF0;   // the fixed IPI that ends a worker's idle_halt

// False only on an application processor (true before bring-up and hosted). The panic path
// uses it to leave the file system, which the BSP may be inside, alone.
bool on_bsp();

// kernel command line test=ap-timeout: start_processors sends the last processor INIT but no
// SIPI, so it never arrives and the timeout path (report, INIT, fewer cores) runs.
void test_withhold_sipi();

// kernel command line test=smp|ap-fault|ap-syscall|pool-stress (smp_test.cpp): what = "smp",
// "fault", "call" or "pool-stress".
void boot_test(const char *what);

}  // namespace bf::smp
