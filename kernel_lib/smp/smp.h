// Between the pool (pool.cpp, shared by both modes) and the bare-metal bring-up of the other
// processors (the rest of this folder). Hosted mode has its own start/sleep/wake in hosted/.
#pragma once
#include <stdint.h>

namespace bf::smp {

// Bare metal, called once by kernel_main after paging and the syscall MSRs are set up: finds the
// processors (ACPI MADT; one CPU with a message when the tables are missing or bad), starts every
// application processor (INIT-SIPI-SIPI), and prints what it found and started. Each AP that
// comes up calls pool::worker_main(w) with w = 1, 2, ... in the order they arrive and never
// returns. Returns the number of cores online, the BSP included.
int start_processors();
int processors_found();          // MADT entries enabled or online-capable (1 without a MADT)
int processor_id();              // this core's LAPIC ID (for panics naming the CPU)
void wake(int worker);           // an IPI to worker w's core (ends its idle_halt)
void idle_halt();                // sti; hlt; cli: returns after an interrupt (the wake IPI)
// Before a worker touches program memory after a pause (idle_halt does it itself): if kernel_lib
// unmapped or re-protected pages since this core last looked (paging::generation), flush this
// core's TLB, so it never reaches a frame through a translation the BSP has since removed. A
// load and a compare when nothing changed.
void sync_tlb();

}  // namespace bf::smp

namespace bf::pool {
[[noreturn]] void worker_main(int worker);  // pool.cpp: a worker's loop (bare metal: per AP)
// Bare metal: kernel_main hands the pool the bring-up's functions before start_processors()
// (the pool stays free of them in the host test build, which has no processors to start).
// sync_tlb runs on a worker before each job it takes part in (smp::sync_tlb).
void use_processors(int (*found)(), void (*wake)(int), void (*halt)(), void (*sync_tlb)());
// Bare metal: hands an idle worker's core to fn(arg), which runs there until it returns (a
// program thread: smp/thread.cpp). The worker is one that run() does not use now (index >=
// threads()), the highest free one; until fn returns, run() leaves it out even if set_threads()
// asks for it. Returns the worker index, or -1 when every core is in use or lent (hosted: -1).
int lend(void (*fn)(void *), void *arg);
}  // namespace bf::pool
