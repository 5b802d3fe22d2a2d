// The local APIC: this core's interrupt controller, through which one core starts and wakes
// another. xAPIC (MMIO page at IA32_APIC_BASE, mapped uncached) or x2APIC (MSRs 0x800+) when the
// firmware left the BSP in x2APIC mode; the APs are put in the BSP's mode.
#pragma once
#include <stdint.h>

namespace bf::lapic {

constexpr uint8_t kSpuriousVector = 0xFF;

// On the BSP before any IPI: reads the APIC base MSR, maps the xAPIC page uncached. False (with
// a reason) when the local APIC is unusable: not enabled, or its registers outside the map.
bool init_bsp(const char **why);
void init_ap();             // on each AP: same mode as the BSP, software-enabled, TPR 0
bool x2apic();
uint32_t id();              // this core's local APIC ID
uint32_t max_id();          // the largest ID an IPI can name in this mode (0xFF for xAPIC)

// IPIs to one core by APIC ID. Each waits (bounded) until the previous one left the APIC.
void send_init(uint32_t apic_id);
void send_startup(uint32_t apic_id, uint8_t page);  // SIPI: start in real mode at page << 12
void send_fixed(uint32_t apic_id, uint8_t vector);
void eoi();

}  // namespace bf::lapic
