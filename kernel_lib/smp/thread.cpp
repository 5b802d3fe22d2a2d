// Program threads on bare metal: clone() (syscall/sys_thread.cpp) lends an idle pool worker's
// core (pool::lend) and the thread runs there until its exit() system call, which returns the
// core to the pool. One thread per core, no scheduler: a thread is a core.
//
// Memory: the threads share every page table. Rather than interrupt the other cores to flush
// their TLBs after each munmap, the first thread makes vm:: stop reusing addresses
// (vm::keep_addresses), so a translation another core still caches can only name an address the
// program no longer owns. Pool workers keep syncing their TLB before each job (smp::sync_tlb).
#include "thread.h"

#include "../arch/x86_64/cpu.h"
#include "../arch/x86_64/percpu.h"
#include "../mm/paging.h"
#include "../mm/vmspace.h"
#include "../time/tsc.h"
#include "bareflow/kernel.h"
#include "smp.h"

extern "C" void thread_enter(uint64_t *save, uint64_t rip, uint64_t rsp, uint64_t rflags);
extern "C" [[noreturn]] void thread_leave(uint64_t saved);

namespace bf::smp {

namespace {

constexpr uint32_t kFsBaseMsr = 0xC0000100;
int g_running;  // threads started and not yet exited

// On the lent core: becomes the thread, and returns when it has exited.
void run_on_lent_core(void *arg) {
    auto *shared = static_cast<ThreadStart *>(arg);
    ThreadStart st = *shared;  // the caller's copy lives on its stack until `started`
    PerCpu *me = this_cpu();
    me->tid = st.tid;
    me->clear_tid = st.clear_tid;
    uint64_t fs_before = cpu::rdmsr(kFsBaseMsr);
    uint32_t mxcsr;
    asm volatile("stmxcsr %0" : "=m"(mxcsr));
    cpu::wrmsr(kFsBaseMsr, st.fs);
    sync_tlb();
    __atomic_store_n(&shared->started, 1, __ATOMIC_RELEASE);
    thread_enter(&me->worker_context, st.rip, st.rsp, st.rflags);
    // Back from thread_exit(): the worker's own state again.
    me->tid = 0;
    me->clear_tid = 0;
    cpu::wrmsr(kFsBaseMsr, fs_before);
    asm volatile("ldmxcsr %0" ::"m"(mxcsr));
    __atomic_sub_fetch(&g_running, 1, __ATOMIC_SEQ_CST);
}

}  // namespace

int start_thread(ThreadStart *st) {
    vm::keep_addresses();
    __atomic_add_fetch(&g_running, 1, __ATOMIC_SEQ_CST);
    // A thread that just ended gives its core back a few microseconds after its joiner woke:
    // retry for up to 1 ms before saying no core is free.
    int w;
    uint64_t t0 = monotonic_ns();
    while ((w = pool::lend(run_on_lent_core, st)) < 0 && monotonic_ns() - t0 < 1000000)
        asm volatile("pause");
    if (w < 0) {
        __atomic_sub_fetch(&g_running, 1, __ATOMIC_SEQ_CST);
        return -1;
    }
    while (!__atomic_load_n(&st->started, __ATOMIC_ACQUIRE)) asm volatile("pause");
    return w;
}

bool on_thread() { return this_cpu()->index != 0 && this_cpu()->tid != 0; }

int threads_running() { return __atomic_load_n(&g_running, __ATOMIC_SEQ_CST); }

void thread_exit() { thread_leave(this_cpu()->worker_context); }

}  // namespace bf::smp
