// Per-processor state, reached through GS base on every core (GS is free: x86-64 glibc and LLVM
// never use it, and arch_prctl(ARCH_SET_GS) is refused). syscall_init points the BSP's GS at
// g_percpu[0] before the first system call; each AP points its own at its entry in ap_main.
// entry.S reads the first four fields by offset: keep them first and in this order.
#pragma once
#include <stdint.h>

#include "cpu.h"

namespace bf {

struct PerCpu {
    PerCpu *self;                // 0: this_cpu() reads it
    uint64_t tlb_seen;           // 8: paging::generation() when this core last flushed its TLB
    uint64_t syscall_stack_top;  // 16: the stack syscall_entry switches to
    uint64_t syscall_user_rsp;   // 24: the caller's RSP while a system call runs
    int index;                   // 0 the BSP, w for pool worker w
    uint32_t apic_id;
    // A program thread running on this core (sys_thread.cpp, smp/thread.cpp): 0 when none.
    int tid;                     // what gettid returns: 1 on the BSP
    uint64_t clear_tid;          // CLONE_CHILD_CLEARTID: zeroed and woken when the thread exits
    uint64_t worker_context;     // the worker's stack while its core lends itself to a thread
    // A futex wait on this core (sys_thread.cpp): the word, and set once a wake reached it.
    const void *futex_word;
    uint32_t futex_woken;
};

static_assert(__builtin_offsetof(PerCpu, syscall_stack_top) == 16 &&
              __builtin_offsetof(PerCpu, syscall_user_rsp) == 24, "syscall/entry.S reads these");

constexpr int kMaxCpus = 64;          // pool::kMaxThreads
extern PerCpu g_percpu[kMaxCpus];     // [0] the BSP, [w] pool worker w (smp/ap_boot.cpp)

inline PerCpu *this_cpu() {
    PerCpu *p;
    asm volatile("mov %%gs:0, %0" : "=r"(p));
    return p;
}

inline void set_this_cpu(PerCpu *p) {
    p->self = p;
    cpu::wrmsr(0xC0000101, uint64_t(p));  // IA32_GS_BASE
}

}  // namespace bf
