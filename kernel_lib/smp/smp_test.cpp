// Boot-time checks of the application processors through the pool, on request from the kernel
// command line (tests/boot/smp.test): `test=smp` runs one pool job on every core and reports
// which cores took part and whether each has the BSP's XCR0; `test=ap-fault` makes an AP fault,
// which must end in a panic naming it; `test=ap-syscall` makes the APs' tasks call getpid, which
// runs on their own syscall stacks, one core at a time (syscall/syscall.cpp), and returns 1;
// `test=pool-stress` runs thousands of tiny jobs of uneven sizes at every thread count, some after
// the workers went to sleep, and counts how often each index ran.
#include "../arch/x86_64/cpu.h"
#include "../time/tsc.h"
#include "ap_boot.h"
#include "bareflow/kernel.h"
#include "bareflow/pool.h"
#include "smp.h"

namespace bf::smp {

namespace {

enum class Mode { kCount, kFault, kSyscall };

struct Probe {
    Mode mode;
    int want;              // cores that should take part
    uint64_t seen;         // bit per APIC ID < 64
    uint64_t xcr0_bsp;
    int xcr0_mismatch;
    int tasks;
    int syscalls_ok;       // getpid calls on an AP that returned 1
};

uint64_t xgetbv0() {
    uint32_t lo, hi;
    asm volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return (uint64_t(hi) << 32) | lo;
}

// One task per core: each marks its core, then waits (bounded) until every core has, so no core
// can take a second index before the others took their first.
void task(void *ctx, int) {
    Probe *p = static_cast<Probe *>(ctx);
    __atomic_add_fetch(&p->tasks, 1, __ATOMIC_RELAXED);
    if (p->mode != Mode::kCount && !on_bsp()) {
        if (p->mode == Mode::kFault) *reinterpret_cast<volatile uint64_t *>(0x0000500000000000ull) = 1;
        long r;
        asm volatile("syscall" : "=a"(r) : "a"(39L) : "rcx", "r11", "memory");  // getpid
        if (r == 1) __atomic_add_fetch(&p->syscalls_ok, 1, __ATOMIC_RELAXED);
    }
    int id = processor_id();
    if (id < 64) __atomic_or_fetch(&p->seen, 1ull << id, __ATOMIC_ACQ_REL);
    if (xgetbv0() != p->xcr0_bsp) __atomic_add_fetch(&p->xcr0_mismatch, 1, __ATOMIC_RELAXED);
    uint64_t t0 = cpu::rdtsc();
    while (__builtin_popcountll(__atomic_load_n(&p->seen, __ATOMIC_ACQUIRE)) < p->want &&
           tsc_to_us(cpu::rdtsc() - t0) < 2000000)
        asm volatile("pause");
}

// Pool stress: job sizes 1..3*cores+2 at every thread count; each index must run exactly once.
struct Stress {
    uint32_t hits[256];
};

void stress_task(void *ctx, int i) { __atomic_add_fetch(&static_cast<Stress *>(ctx)->hits[i], 1u, __ATOMIC_RELAXED); }

void stress() {
    static Stress st;  // kernel_lib has no heap of its own before the program
    const int cores = pool::cores_online();
    int jobs = 0, wrong = 0, slept = 0;
    for (int threads = 1; threads <= cores; threads++) {
        pool::set_threads(threads);
        for (int k = 0; k < 2000; k++) {
            const int count = 1 + (k * 7 + threads) % (3 * cores + 2);
            for (int i = 0; i < count; i++) st.hits[i] = 0;
            if (k % 500 == 499) {  // past the workers' spin budget: they halt, the job wakes them
                uint64_t t0 = cpu::rdtsc();
                while (tsc_to_us(cpu::rdtsc() - t0) < 1000) asm volatile("pause");
                slept++;
            }
            pool::run(count, stress_task, &st);
            jobs++;
            for (int i = 0; i < count; i++) wrong += st.hits[i] != 1;
        }
    }
    pool::set_threads(cores);
    kprintf("test: pool stress: %d jobs of 1..%d indices at 1..%d threads (%d after the workers slept): "
            "%d indices not run exactly once\n", jobs, 3 * cores + 2, cores, slept, wrong);
}

}  // namespace

void boot_test(const char *what) {
    if (what[0] == 'p') return stress();
    Probe p{};
    p.mode = what[0] == 'f' ? Mode::kFault : what[0] == 'c' ? Mode::kSyscall : Mode::kCount;
    p.want = pool::set_threads(pool::cores_online());
    bool xsave = cpu::cpuid(1).c & (1u << 27);  // OSXSAVE: xgetbv usable
    p.xcr0_bsp = xsave ? xgetbv0() : 0;
    if (!xsave) p.xcr0_mismatch = -1;
    kprintf("test: one pool job of %d tasks on %d threads\n", p.want, p.want);
    pool::run(p.want, task, &p);
    kprintf("test: pool job ran %d tasks on %d of %d cores; XCR0 %s\n", p.tasks,
            __builtin_popcountll(p.seen), p.want,
            p.xcr0_mismatch < 0 ? "not checked (no XSAVE)"
                                : p.xcr0_mismatch ? "DIFFERS on some core" : "the BSP's on every core");
    if (p.mode == Mode::kSyscall)
        kprintf("test: getpid from the tasks on %d application processors returned 1 on %d\n",
                p.want - 1, p.syscalls_ok);
}

}  // namespace bf::smp
