// Exceptions and stray interrupts: every one is fatal and ends in a panic report (vector, error
// code, RIP, CR2, registers, a frame-pointer backtrace) on serial and VGA. Two vectors are not
// errors: the SMP wake IPI (it only ends an idle_halt) and the local APIC's spurious vector.
#include "bareflow/kernel.h"
#include "cpu.h"
#include "panic.h"
#include "../../smp/ap_boot.h"
#include "../../mm/paging.h"
#include "../../smp/lapic.h"

namespace bf {

namespace {

const char *const kNames[32] = {
    "divide error (#DE)", "debug (#DB)", "NMI", "breakpoint (#BP)", "overflow (#OF)",
    "bound range (#BR)", "invalid opcode (#UD)", "device not available (#NM)",
    "double fault (#DF)", "coprocessor segment overrun", "invalid TSS (#TS)",
    "segment not present (#NP)", "stack fault (#SS)", "general protection (#GP)",
    "page fault (#PF)", "reserved", "x87 floating point (#MF)", "alignment check (#AC)",
    "machine check (#MC)", "SIMD floating point (#XM)", "virtualization (#VE)",
    "control protection (#CP)", "reserved", "reserved", "reserved", "reserved", "reserved",
    "reserved", "hypervisor injection (#HV)", "VMM communication (#VC)", "security (#SX)",
    "reserved"};

}  // namespace

extern "C" void trap_handler(TrapFrame *f) {
    if (f->vector == smp::kWakeVector) {
        lapic::eoi();
        return;
    }
    if (f->vector == lapic::kSpuriousVector) return;  // no EOI for a spurious interrupt
    // A stale translation: another core made the page accessible (mprotect) after this one had
    // cached the old entry. The tables allow the access now: drop the entry and retry.
    if (f->vector == 14 && !(f->error & (8 | 16))) {
        uint64_t va = cpu::read_cr(2);
        if (paging::accessible(va, f->error & 2)) {
            asm volatile("invlpg (%0)" ::"r"(va) : "memory");
            return;
        }
    }
    char what[96];
    const char *name = f->vector < 32 ? kNames[f->vector] : "unexpected interrupt";
    if (f->vector == 14) {
        uint64_t e = f->error;
        ksnprintf(what, sizeof what, "%s, vector %lu, error 0x%lx [%s, %s%s%s]", name,
                  (unsigned long)f->vector, (unsigned long)e,
                  (e & 1) ? "protection violation" : "page not present",
                  (e & 2) ? "write" : ((e & 16) ? "instruction fetch" : "read"),
                  (e & 4) ? ", user" : "", (e & 8) ? ", reserved bit" : "");
    } else {
        ksnprintf(what, sizeof what, "%s, vector %lu, error 0x%lx", name,
                  (unsigned long)f->vector, (unsigned long)f->error);
    }
    panic_with_frame(what, f);
}

}  // namespace bf
