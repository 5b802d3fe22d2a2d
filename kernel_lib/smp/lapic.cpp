// Local APIC access (lapic.h). The register offsets are the xAPIC MMIO ones; in x2APIC mode the
// same register is MSR 0x800 + offset / 16, and the ICR is one 64-bit MSR with the destination
// in the high half (no delivery-status bit to wait for).
#include "lapic.h"

#include "../arch/x86_64/cpu.h"
#include "../mm/paging.h"
#include "bareflow/kernel.h"

namespace bf::lapic {

namespace {

constexpr uint32_t kApicBaseMsr = 0x1B;
constexpr uint64_t kBaseEnable = 1u << 11, kBaseX2 = 1u << 10;
constexpr uint32_t kId = 0x20, kTpr = 0x80, kEoi = 0xB0, kSvr = 0xF0, kIcrLo = 0x300, kIcrHi = 0x310;
constexpr uint32_t kDeliveryPending = 1u << 12, kAssert = 1u << 14, kLevel = 1u << 15;
constexpr uint32_t kModeInit = 5u << 8, kModeStartup = 6u << 8;

bool g_x2;
uint64_t g_base = 0xFEE00000;

uint32_t read(uint32_t reg) {
    if (g_x2) return uint32_t(cpu::rdmsr(0x800 + reg / 16));
    return *reinterpret_cast<volatile uint32_t *>(g_base + reg);
}
void write(uint32_t reg, uint32_t v) {
    if (g_x2) cpu::wrmsr(0x800 + reg / 16, v);
    else *reinterpret_cast<volatile uint32_t *>(g_base + reg) = v;
}

// xAPIC: wait until the APIC has taken the last ICR write (delivery status idle). Bounded: a
// stuck APIC must not hang the boot; the next write then simply replaces the command.
void wait_idle() {
    if (g_x2) return;
    for (int i = 0; i < 1000000 && (read(kIcrLo) & kDeliveryPending); i++)
        asm volatile("pause");
}

void send(uint32_t dest, uint32_t low) {
    if (g_x2) {
        // x2APIC ICR writes are not serializing: order the stores before it (the work an IPI
        // announces) with mfence, as the SDM asks.
        asm volatile("mfence" ::: "memory");
        cpu::wrmsr(0x830, (uint64_t(dest) << 32) | low);
        return;
    }
    wait_idle();
    write(kIcrHi, dest << 24);
    write(kIcrLo, low);
}

}  // namespace

bool init_bsp(const char **why) {
    uint64_t base = cpu::rdmsr(kApicBaseMsr);
    if (!(base & kBaseEnable)) {
        *why = "the local APIC is disabled (IA32_APIC_BASE)";
        return false;
    }
    g_x2 = base & kBaseX2;
    g_base = base & 0x000FFFFFFFFFF000ull;
    if (!g_x2 && !paging::set_uncached(g_base)) {
        *why = "the local APIC's registers are outside the identity map";
        return false;
    }
    return true;
}

void init_ap() {
    // After INIT an AP's APIC is in xAPIC mode at its default base, software-disabled. x2APIC
    // can only be entered from xAPIC-enabled mode: enable first, then set EXTD.
    uint64_t base = cpu::rdmsr(kApicBaseMsr);
    base |= kBaseEnable;
    cpu::wrmsr(kApicBaseMsr, base);
    if (g_x2) cpu::wrmsr(kApicBaseMsr, base | kBaseX2);
    write(kTpr, 0);
    write(kSvr, 0x100u | kSpuriousVector);  // software enable: fixed IPIs are accepted
}

bool x2apic() { return g_x2; }
uint32_t id() { return g_x2 ? read(kId) : read(kId) >> 24; }
uint32_t max_id() { return g_x2 ? 0xFFFFFFFEu : 0xFEu; }

void send_init(uint32_t d) { send(d, kModeInit | kAssert | kLevel); }
void send_startup(uint32_t d, uint8_t page) { send(d, kModeStartup | kAssert | page); }
void send_fixed(uint32_t d, uint8_t vector) { send(d, kAssert | vector); }
void eoi() { write(kEoi, 0); }

}  // namespace bf::lapic
