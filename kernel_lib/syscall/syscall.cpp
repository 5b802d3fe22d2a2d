#include "syscall.h"

#include "../arch/x86_64/cpu.h"
#include "../arch/x86_64/percpu.h"
#include "../arch/x86_64/simd.h"
#include "../mm/paging.h"
#include "bareflow/kernel.h"
#include "errno.h"

extern "C" char syscall_entry[], syscall_bsp_stack_top[];
extern "C" uint64_t syscall_xsave_size;
extern "C" uint8_t syscall_use_xsave;
uint64_t syscall_xsave_size;
uint8_t syscall_use_xsave;

namespace bf {

namespace {

constexpr int kMaxNr = 512;
SyscallFn table[kMaxNr];
bool reported[kMaxNr];
uint64_t calls;

// One lock around every handler: kernel_lib's state (page tables, frames, files, console) has
// no finer locking. A ticket lock, so cores take turns in arrival order; `owner` lets a handler
// that waits (syscall_wait_step, syscall_unlock/relock) hand the lock on and take it back.
struct alignas(64) BigLock {
    uint32_t next, serving;
    int owner;  // PerCpu::index of the holder, -1 when free
};
BigLock big{0, 0, -1};

void big_lock(PerCpu *me) {
    uint32_t t = __atomic_fetch_add(&big.next, 1, __ATOMIC_RELAXED);
    while (__atomic_load_n(&big.serving, __ATOMIC_ACQUIRE) != t) asm volatile("pause");
    big.owner = me->index;
}

void big_unlock() {
    big.owner = -1;
    __atomic_store_n(&big.serving, big.serving + 1, __ATOMIC_RELEASE);
}

bool holds_lock(PerCpu *me) { return __atomic_load_n(&big.owner, __ATOMIC_RELAXED) == me->index; }

struct Name { int nr; const char *name; };
constexpr Name kNames[] = {
#include "syscall_names.inc"  // generated from <asm/unistd_64.h> by the Makefile
};

const char *name_of(int64_t nr) {
    for (const auto &n : kNames)
        if (n.nr == nr) return n.name;
    return "not a Linux syscall";
}

}  // namespace

void register_syscall(int nr, SyscallFn fn) { table[nr] = fn; }
uint64_t syscall_count() { return calls; }

bool g_trace;
void syscall_trace(bool on) { g_trace = on; }

namespace {

int64_t handle(const SyscallFrame *f) {
    calls++;
    if (f->nr >= 0 && f->nr < kMaxNr && table[f->nr]) {
        int64_t r = table[f->nr](*f);
        if (g_trace)
            kprintf("strace: %s(0x%lx, 0x%lx, 0x%lx, 0x%lx, 0x%lx, 0x%lx) = %ld (0x%lx)\n",
                    name_of(f->nr), (unsigned long)f->a0, (unsigned long)f->a1,
                    (unsigned long)f->a2, (unsigned long)f->a3, (unsigned long)f->a4,
                    (unsigned long)f->a5, (long)r, (unsigned long)r);
        return r;
    }
    if (f->nr < 0 || f->nr >= kMaxNr || !reported[f->nr]) {
        if (f->nr >= 0 && f->nr < kMaxNr) reported[f->nr] = true;
        kprintf("syscall: %s (%ld) is not implemented: -ENOSYS\n", name_of(f->nr), (long)f->nr);
    }
    return -kENOSYS;
}

}  // namespace

extern "C" int64_t syscall_dispatch(const SyscallFrame *f) {
    big_lock(this_cpu());
    int64_t r = handle(f);
    big_unlock();
    return r;
}

void syscall_wait_step() {
    if (!bare_metal()) {  // hosted, GS is not ours
        asm volatile("pause");
        return;
    }
    PerCpu *me = this_cpu();
    bool held = holds_lock(me);
    if (held) big_unlock();
    asm volatile("pause");
    if (held) big_lock(me);
}

bool syscall_unlock() {
    if (!bare_metal() || !holds_lock(this_cpu())) return false;
    big_unlock();
    return true;
}

void syscall_relock(bool held) {
    if (held) big_lock(this_cpu());
}

void syscall_init() {
    g_percpu[0].index = 0;
    g_percpu[0].tid = 1;
    g_percpu[0].syscall_stack_top = uint64_t(syscall_bsp_stack_top);
    set_this_cpu(&g_percpu[0]);  // before the first system call: entry.S finds its stack there
    syscall_use_xsave = simd::xsave_enabled();
    syscall_xsave_size = simd::save_area_size();
    cpu::wrmsr(0xC0000080, cpu::rdmsr(0xC0000080) | 1);   // EFER.SCE
    cpu::wrmsr(0xC0000081, uint64_t(0x08) << 32);         // STAR: kernel CS 0x08, SS 0x10
    cpu::wrmsr(0xC0000082, uint64_t(syscall_entry));      // LSTAR
    cpu::wrmsr(0xC0000084, 0x47700);                      // FMASK: TF DF IF NT AC cleared
    register_memory_syscalls();
    register_process_syscalls();
    register_io_syscalls();
    register_file_syscalls();
    register_time_syscalls();
    register_thread_syscalls();
}

bool user_readable(const void *p, uint64_t n) {
    uint64_t a = uint64_t(p);
    if (!n) return true;
    if (!a || a + n < a) return false;
    for (uint64_t pg = a & ~0xFFFull; pg < a + n; pg += 4096)
        if (!paging::accessible(pg, false)) return false;
    return true;
}

bool user_writable(void *p, uint64_t n) {
    uint64_t a = uint64_t(p);
    if (!n) return true;
    if (!a || a + n < a) return false;
    for (uint64_t pg = a & ~0xFFFull; pg < a + n; pg += 4096)
        if (!paging::accessible(pg, true)) return false;
    return true;
}

}  // namespace bf
