// Starting the application processors (smp.h): the MADT lists them (acpi.cpp), the local APIC
// sends INIT-SIPI-SIPI (lapic.cpp), each AP runs the real-mode trampoline (ap_trampoline.asm) into
// ap_entry (ap_entry.S) and ap_main below, which makes it a copy of the BSP's CPU state (CR0,
// CR4, EFER, XCR0, PAT, the shared IDT with its own GDT/TSS/IST stacks), and then hands it to
// the pool as worker 1, 2, ... in the order the APs arrive.
//
// The trampoline page: 0x30000 (code) and 0x31000 (a PML4 copy). Nothing else below 1 MiB uses
// it at run time: stage 2's tables are at 0x10000, the BIOS trampoline at 0x8000-0x9FFF and its
// bounce buffer at 0x20000-0x2FFFF; IVT, BDA and EBDA stay untouched for INT 13h.
#include "ap_boot.h"

#include "../arch/x86_64/cpu.h"
#include "../arch/x86_64/descriptors.h"
#include "../arch/x86_64/panic.h"
#include "../arch/x86_64/percpu.h"
#include "../arch/x86_64/simd.h"
#include "../mm/paging.h"
#include "../mm/vmspace.h"
#include "../time/tsc.h"
#include "acpi.h"
#include "bareflow/kernel.h"
#include "bareflow/pool.h"
#include "lapic.h"
#include "smp.h"

extern "C" const uint8_t ap_trampoline_blob[], ap_trampoline_blob_end[];
extern "C" char ap_entry[];
extern "C" char syscall_entry[];

// Read by ap_entry.S: the ticket counter and one stack top per ticket.
extern "C" {
uint32_t ap_ticket;
uint32_t ap_stack_count;
uint64_t ap_stack_tops[bf::pool::kMaxThreads];
}

namespace bf {
PerCpu g_percpu[kMaxCpus];
static_assert(kMaxCpus == pool::kMaxThreads);
}  // namespace bf

namespace bf::smp {

namespace {

constexpr uint64_t kTrampoline = 0x30000, kPml4Copy = kTrampoline + 0x1000;
constexpr uint64_t kStackSize = 256 * 1024, kSyscallStackSize = 64 * 1024, kGuard = 4096;
constexpr uint64_t kInitWaitUs = 10000, kSipiWaitUs = 200;
// How long the BSP waits for the APs to arrive: 100 ms on hardware. Under a hypervisor or an
// emulator the TSC runs on the host's clock while each virtual CPU is a host thread that may
// wait for a host core (TCG with more virtual than host cores): 1 s there. The wait ends as
// soon as every AP is in, so the margin costs nothing when all start.
uint64_t arrive_timeout_us() { return (cpu::cpuid(1).c & (1u << 31)) ? 1000000 : 100000; }
constexpr uint32_t kClosed = 1u << 31;  // in g_state: bring-up is over, late APs park

struct TrampolineData {  // ap_trampoline.asm's data block, found by its magic
    uint64_t magic, base, cr3, entry, efer;
};
constexpr uint64_t kMagic = 0x4150544F4F425346ull;

// What every AP copies from the BSP, captured once before the first SIPI.
struct BspState { uint64_t cr0, cr4, efer, pat; };
BspState g_bsp;

cpu::CpuTables g_tables[pool::kMaxThreads];  // by ticket
uint64_t g_ist[pool::kMaxThreads][cpu::kIstCount];
uint64_t g_syscall_stack_top[pool::kMaxThreads];  // by ticket

// Worker w's LAPIC ID (w >= 1), written by the AP before it counts itself ready.
uint32_t g_worker_apic[pool::kMaxThreads];
uint32_t g_state;    // APs that claimed a worker index | kClosed
uint32_t g_ready;    // APs that wrote g_worker_apic and are about to enter the pool
int g_found = 1, g_online = 1;
bool g_started;
uint32_t g_bsp_apic;     // the BSP's local APIC ID (IPIs leave it out)
int g_bsp_id;            // processor_id() on the BSP (on_bsp compares with it)
bool g_withhold_sipi;    // test=ap-timeout

void delay_us(uint64_t us) {
    uint64_t t0 = cpu::rdtsc();
    while (tsc_to_us(cpu::rdtsc() - t0) < us) asm volatile("pause");
}

uint64_t read_efer() { return cpu::rdmsr(0xC0000080); }

// One block per AP: [guard][stack][guard][IST 1][guard][IST 2][guard][system calls], from the
// mmap region (the frames are backed now). False when memory ran out: fewer APs start.
bool alloc_stacks(uint32_t ticket) {
    const uint64_t total = kGuard + kStackSize + cpu::kIstCount * (kGuard + cpu::kIstSize) +
                           kGuard + kSyscallStackSize;
    int64_t base = vm::mmap(0, total, 3 /* RW */, 0x22 /* PRIVATE|ANON */, -1, 0);
    if (base < 0) return false;
    uint64_t a = uint64_t(base);
    vm::mprotect(a, kGuard, 0);
    a += kGuard + kStackSize;
    ap_stack_tops[ticket] = a;
    for (int i = 0; i < cpu::kIstCount; i++) {
        vm::mprotect(a, kGuard, 0);
        a += kGuard + cpu::kIstSize;
        g_ist[ticket][i] = a;
    }
    vm::mprotect(a, kGuard, 0);
    g_syscall_stack_top[ticket] = a + kGuard + kSyscallStackSize;
    return true;
}

// Copies the trampoline to its page and fills its data block; the page becomes read-execute
// (it runs with the kernel's tables once paging is on) until bring-up is over.
bool install_trampoline() {
    uint64_t n = uint64_t(ap_trampoline_blob_end - ap_trampoline_blob);
    if (n > 4096) return false;
    paging::protect(kTrampoline, paging::kRead | paging::kWrite);
    paging::protect(kPml4Copy, paging::kRead | paging::kWrite);
    cpu::copy_bytes(reinterpret_cast<void *>(kTrampoline), ap_trampoline_blob, n);
    TrampolineData *d = nullptr;
    for (uint64_t off = 0; off + sizeof(TrampolineData) <= n; off += 8) {
        auto *c = reinterpret_cast<TrampolineData *>(kTrampoline + off);
        if (c->magic == kMagic) d = c;
    }
    if (!d || d->base != kTrampoline) return false;
    d->cr3 = paging::pml4_address();
    d->entry = uint64_t(ap_entry);
    d->efer = g_bsp.efer & ((1u << 0) | (1u << 8) | (1u << 11));  // SCE, LME, NXE
    // The PML4 copy: CR3 must fit in 32 bits while the AP turns long mode on.
    cpu::copy_bytes(reinterpret_cast<void *>(kPml4Copy),
                    reinterpret_cast<const void *>(paging::pml4_address()), 4096);
    paging::protect(kTrampoline, paging::kRead | paging::kExec);
    return true;
}

bool claimed(uint32_t apic, int workers) {
    for (int w = 1; w <= workers; w++)
        if (g_worker_apic[w] == apic) return true;
    return false;
}

}  // namespace

void test_withhold_sipi() { g_withhold_sipi = true; }

bool on_bsp() { return !g_started || processor_id() == g_bsp_id; }

int processors_found() { return g_found; }

// The LAPIC ID from CPUID (leaf 0xB: x2APIC ID, else leaf 1's initial APIC ID): valid from the
// first instruction on, before the local APIC is set up, on any core.
int processor_id() {
    if (cpu::cpuid(0).a >= 0xB && cpu::cpuid(0xB, 0).b != 0) return int(cpu::cpuid(0xB, 0).d);
    return int(cpu::cpuid(1).b >> 24);
}

void wake(int worker) {
    if (worker < 1 || worker >= g_online) return;
    lapic::send_fixed(g_worker_apic[worker], kWakeVector);
}

void idle_halt() {
    // sti's one-instruction shadow: an IPI that arrives between the caller's last check and
    // here is taken after hlt starts, so it ends the halt instead of being lost.
    asm volatile("sti; hlt; cli" ::: "memory");
    sync_tlb();
}

void sync_tlb() {
    if (!g_started) return;
    uint64_t gen = paging::generation();
    PerCpu *p = this_cpu();
    if (p->tlb_seen == gen) return;
    p->tlb_seen = gen;
    asm volatile("mov %%cr3, %%rax; mov %%rax, %%cr3" ::: "rax", "memory");
}

int start_processors() {
    g_bsp_id = processor_id();
    acpi::Madt madt;
    if (!acpi::find_madt(&madt)) {
        kprintf("smp: %s; running on 1 CPU\n", madt.reason);
        return 1;
    }
    g_found = madt.listed;
    const char *why = nullptr;
    if (!lapic::init_bsp(&why)) {
        kprintf("smp: %s; running on 1 CPU\n", why);
        return 1;
    }
    g_bsp_apic = lapic::id();
    bool bsp_listed = false;
    uint32_t targets[pool::kMaxThreads];
    int nt = 0;
    for (int i = 0; i < madt.count; i++) {
        uint32_t id = madt.apic_ids[i];
        if (id == g_bsp_apic) bsp_listed = true;
        else if (id > lapic::max_id())
            kprintf("smp: processor with APIC ID %u needs x2APIC mode (the BSP is in xAPIC mode); "
                    "left out\n", id);
        else if (nt < pool::kMaxThreads - 1) targets[nt++] = id;
    }
    if (!bsp_listed) kprintf("smp: the BSP (APIC ID %u) is not in the MADT\n", g_bsp_apic);
    if (madt.listed > madt.count)
        kprintf("smp: the MADT lists %d processors; using the first %d\n", madt.listed,
                pool::kMaxThreads);
    for (int t = 0; t < nt; t++)
        if (!alloc_stacks(uint32_t(t))) {
            kprintf("smp: no memory for the stacks of %d more processors; left out\n", nt - t);
            nt = t;
            break;
        }
    ap_stack_count = uint32_t(nt);

    g_bsp = BspState{cpu::read_cr(0), cpu::read_cr(4), read_efer(), cpu::rdmsr(0x277)};
    g_percpu[0].tlb_seen = paging::generation();
    g_percpu[0].apic_id = g_bsp_apic;
    g_started = true;
    if (nt > 0 && !install_trampoline()) {
        kprintf("smp: the AP trampoline does not fit its page; running on 1 CPU\n");
        nt = 0;
    }

    // INIT, ~10 ms, SIPI, ~200 us, SIPI (the MP specification's sequence; a CPU that started on
    // the first SIPI ignores the second), to every target at once, then one timeout for all.
    const uint8_t page = uint8_t(kTrampoline >> 12);
    const int nsipi = (g_withhold_sipi && nt) ? nt - 1 : nt;
    for (int t = 0; t < nt; t++) lapic::send_init(targets[t]);
    if (nt) delay_us(kInitWaitUs);
    for (int t = 0; t < nsipi; t++) lapic::send_startup(targets[t], page);
    if (nt) delay_us(kSipiWaitUs);
    for (int t = 0; t < nsipi; t++) lapic::send_startup(targets[t], page);
    const uint64_t timeout = arrive_timeout_us();
    uint64_t t0 = cpu::rdtsc();
    while (uint32_t(__atomic_load_n(&g_state, __ATOMIC_ACQUIRE)) < uint32_t(nt) &&
           tsc_to_us(cpu::rdtsc() - t0) < timeout)
        asm volatile("pause");
    // Close: an AP that arrives from now on parks instead of taking a worker index.
    int workers = int(__atomic_fetch_or(&g_state, kClosed, __ATOMIC_ACQ_REL) & ~kClosed);
    while (int(__atomic_load_n(&g_ready, __ATOMIC_ACQUIRE)) < workers) asm volatile("pause");
    bool missing = false;
    for (int t = 0; t < nt; t++)
        if (!claimed(targets[t], workers)) {
            kprintf("smp: processor with APIC ID %u did not start within %lu ms; left out\n",
                    targets[t], (unsigned long)(timeout / 1000));
            lapic::send_init(targets[t]);  // back to wait-for-SIPI: it runs nothing of ours
            missing = true;
        }
    // The trampoline page goes back to no-execute only once no AP can be inside it (a late one
    // was just reset by INIT): a fetch from it after that would fault with no IDT to catch it.
    if (missing) delay_us(kInitWaitUs);
    if (nt) paging::protect(kTrampoline, paging::kRead | paging::kWrite);
    g_online = 1 + workers;
    kprintf("smp: %d processor%s in the ACPI MADT, %d online (BSP + %d started)\n", g_found,
            g_found == 1 ? "" : "s", g_online, workers);
    return g_online;
}

}  // namespace bf::smp

using namespace bf;

// An AP, on its own stack with SSE usable (ap_entry.S). Never returns.
extern "C" [[noreturn]] void ap_main(uint32_t ticket) {
    using namespace bf::smp;
    asm volatile("mov %0, %%cr0" ::"r"(g_bsp.cr0) : "memory");
    // CR4 without OSXSAVE first: simd::init_ap sets it together with XCR0.
    asm volatile("mov %0, %%cr4" ::"r"(g_bsp.cr4 & ~(1ull << 18)) : "memory");
    cpu::descriptors_load(&g_tables[ticket], g_ist[ticket]);
    simd::init_ap();
    cpu::wrmsr(0xC0000080, (read_efer() & ~0xD01ull) | (g_bsp.efer & 0xD01));  // SCE LME LMA NXE
    cpu::wrmsr(0x277, g_bsp.pat);
    cpu::wrmsr(0xC0000081, uint64_t(0x08) << 32);         // STAR, as syscall_init
    cpu::wrmsr(0xC0000082, uint64_t(syscall_entry));      // LSTAR, on this core's stack (GS)
    cpu::wrmsr(0xC0000084, 0x47700);                      // FMASK: TF DF IF NT AC cleared
    cpu::wrmsr(0xC0000100, 0);                            // FS base: no TLS on an AP
    const uint64_t tlb_seen = paging::generation();       // flushed from here on
    asm volatile("mov %%cr3, %%rax; mov %%rax, %%cr3" ::: "rax", "memory");
    lapic::init_ap();
    uint32_t apic = lapic::id();
    uint32_t s = __atomic_load_n(&g_state, __ATOMIC_ACQUIRE);
    for (;;) {
        if (s & kClosed) cpu::halt_forever();  // too late: the BSP has given up on us
        if (__atomic_compare_exchange_n(&g_state, &s, s + 1, false, __ATOMIC_ACQ_REL,
                                        __ATOMIC_ACQUIRE))
            break;
    }
    int worker = int(s + 1);
    PerCpu *me = &g_percpu[worker];
    me->index = worker;
    me->apic_id = apic;
    me->syscall_stack_top = g_syscall_stack_top[ticket];
    me->tlb_seen = tlb_seen;
    set_this_cpu(me);
    g_worker_apic[worker] = apic;
    __atomic_add_fetch(&g_ready, 1, __ATOMIC_RELEASE);
    pool::worker_main(worker);
}
