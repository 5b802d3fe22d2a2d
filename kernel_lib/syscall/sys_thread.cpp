// Threads: clone (one thread per idle core, smp/thread.cpp), exit, futex, the thread ids.
// glibc's pthread_create asks clone3 first and falls back to clone on ENOSYS.
#include <asm/unistd_64.h>

#include "../arch/x86_64/cpu.h"
#include "../arch/x86_64/panic.h"
#include "../arch/x86_64/percpu.h"
#include "../smp/smp.h"
#include "../smp/thread.h"
#include "../time/tsc.h"
#include "bareflow/kernel.h"
#include "bareflow/pool.h"
#include "errno.h"
#include "syscall.h"

namespace bf {

namespace {

constexpr long kETIMEDOUT = 110;
int next_tid = 2;

int64_t sys_clone(const SyscallFrame &f) {
    constexpr uint64_t kVm = 0x100, kSighand = 0x800, kThread = 0x10000, kSetTls = 0x80000,
                       kParentSetTid = 0x100000, kChildClearTid = 0x200000,
                       kChildSetTid = 0x01000000;
    uint64_t flags = uint64_t(f.a0), sp = uint64_t(f.a1);
    auto *parent_tid = reinterpret_cast<int *>(f.a2), *child_tid = reinterpret_cast<int *>(f.a3);
    if ((flags & (kVm | kSighand | kThread)) != (kVm | kSighand | kThread)) {
        static bool said;
        if (!said)
            kprintf("clone: only threads (CLONE_VM|CLONE_SIGHAND|CLONE_THREAD), no processes on "
                    "bare metal: -ENOSYS\n");
        said = true;
        return -kENOSYS;
    }
    if (!sp) return -kEINVAL;
    if ((flags & kParentSetTid) && !user_writable(parent_tid, 4)) return -kEFAULT;
    if ((flags & (kChildSetTid | kChildClearTid)) && !user_writable(child_tid, 4)) return -kEFAULT;
    smp::ThreadStart st{};
    st.rip = f.rip;
    st.rsp = sp;
    st.fs = (flags & kSetTls) ? uint64_t(f.a4) : cpu::rdmsr(0xC0000100);
    st.rflags = f.rflags & ~uint64_t(0x200);  // interrupts stay off, as on every core
    st.tid = next_tid;
    st.clear_tid = (flags & kChildClearTid) ? uint64_t(child_tid) : 0;
    // Both written before the child runs, as Linux does: glibc reads pd->tid in either.
    if (flags & kParentSetTid) *parent_tid = st.tid;
    if (flags & kChildSetTid) *child_tid = st.tid;
    if (smp::start_thread(&st) < 0) {
        static bool said;
        if (!said)
            kprintf("clone: no idle core for another thread (%d online, %d used by the pool): "
                    "-EAGAIN\n", pool::cores_online(), pool::threads());
        said = true;
        if (flags & kParentSetTid) *parent_tid = 0;
        return -kEAGAIN;
    }
    return next_tid++;
}

// Wakes up to n waiters on word; returns how many.
int wake(const void *word, int n) {
    int woken = 0;
    for (int i = 0; i < pool::cores_online() && woken < n; i++) {
        PerCpu *c = &g_percpu[i];
        if (__atomic_load_n(&c->futex_word, __ATOMIC_SEQ_CST) != word ||
            __atomic_load_n(&c->futex_woken, __ATOMIC_SEQ_CST))
            continue;
        __atomic_store_n(&c->futex_woken, 1u, __ATOMIC_SEQ_CST);
        if (i > 0 && c != this_cpu()) smp::wake(i);  // ends its hlt, if it got that far
        woken++;
    }
    return woken;
}

// Waits until a wake names word, or until deadline_ns (monotonic; 0: none). The lock is handed
// on meanwhile: the waker needs it. An AP spins ~50 us, then halts until the wake IPI (without
// a deadline); the BSP only spins: with interrupts on, the firmware's PIC set-up could deliver
// its timer through vectors that mean CPU exceptions here.
int64_t wait(const int *word, int expected, uint64_t deadline_ns) {
    if (*word != expected) return -kEAGAIN;
    if (!deadline_ns && smp::threads_running() == 0)
        panic("deadlock: futex wait on %p (value %d) with no other thread to wake it",
              (const void *)word, *word);
    PerCpu *me = this_cpu();
    __atomic_store_n(&me->futex_woken, 0u, __ATOMIC_SEQ_CST);
    __atomic_store_n(&me->futex_word, static_cast<const void *>(word), __ATOMIC_SEQ_CST);
    bool held = syscall_unlock();
    uint64_t t0 = monotonic_ns();
    bool woken;
    while (!(woken = __atomic_load_n(&me->futex_woken, __ATOMIC_SEQ_CST))) {
        uint64_t now = monotonic_ns();
        if (deadline_ns && now >= deadline_ns) break;
        if (deadline_ns || me->index == 0 || now - t0 < 50000) asm volatile("pause");
        else smp::idle_halt();  // the wake IPI (or another) ends it
    }
    syscall_relock(held);
    woken = __atomic_load_n(&me->futex_woken, __ATOMIC_SEQ_CST);  // a wake just after the deadline counts
    __atomic_store_n(&me->futex_word, static_cast<const void *>(nullptr), __ATOMIC_SEQ_CST);
    return woken ? 0 : -kETIMEDOUT;
}

int64_t sys_futex(const SyscallFrame &f) {
    constexpr int kClockRealtime = 256;
    int op = int(f.a1) & 0x7F;  // without FUTEX_PRIVATE_FLAG and FUTEX_CLOCK_REALTIME
    auto *word = reinterpret_cast<const int *>(f.a0);
    if (!user_readable(word, 4)) return -kEFAULT;
    switch (op) {
    case 0:     // FUTEX_WAIT: a relative timeout
    case 9: {   // FUTEX_WAIT_BITSET: an absolute one, on CLOCK_MONOTONIC or CLOCK_REALTIME
        struct Timespec { int64_t sec, nsec; };
        auto *ts = reinterpret_cast<const Timespec *>(f.a3);
        uint64_t deadline = 0;
        if (ts) {
            if (!user_readable(ts, sizeof *ts)) return -kEFAULT;
            if (ts->sec < 0 || ts->nsec < 0 || ts->nsec >= 1000000000) return -kEINVAL;
            uint64_t t = uint64_t(ts->sec) * 1000000000 + uint64_t(ts->nsec);
            if (op == 0) deadline = monotonic_ns() + t;
            else if (f.a1 & kClockRealtime) deadline = t > realtime_at_boot_ns() ? t - realtime_at_boot_ns() : 1;
            else deadline = t ? t : 1;
        }
        return wait(word, int(f.a2), deadline);
    }
    case 1:   // FUTEX_WAKE
    case 10:  // FUTEX_WAKE_BITSET
        return wake(word, f.a2 > 0x7fffffff ? 0x7fffffff : int(f.a2));
    default: {
        static bool said;
        if (!said) kprintf("futex: operation %d is not implemented: -ENOSYS\n", op);
        said = true;
        return -kENOSYS;
    }
    }
}

// exit ends the calling thread: on a lent core the core goes back to the pool (after
// CLONE_CHILD_CLEARTID: pthread_join waits on that word); on the BSP it ends the program.
int64_t sys_exit(const SyscallFrame &f) {
    if (!smp::on_thread()) shutdown(int(f.a0 & 0xFF));
    PerCpu *me = this_cpu();
    if (me->clear_tid && user_writable(reinterpret_cast<int *>(me->clear_tid), 4)) {
        __atomic_store_n(reinterpret_cast<int *>(me->clear_tid), 0, __ATOMIC_SEQ_CST);
        wake(reinterpret_cast<const void *>(me->clear_tid), 0x7fffffff);
    }
    syscall_unlock();
    smp::thread_exit();
}

int64_t sys_exit_group(const SyscallFrame &f) { shutdown(int(f.a0 & 0xFF)); }

int64_t sys_gettid(const SyscallFrame &) {
    int tid = this_cpu()->tid;
    return tid ? tid : 1;  // a pool task on an AP runs for the main thread
}

int64_t sys_enosys_quiet(const SyscallFrame &) { return -kENOSYS; }  // clone3: glibc falls back

}  // namespace

void register_thread_syscalls() {
    register_syscall(__NR_clone, sys_clone);
    register_syscall(__NR_clone3, sys_enosys_quiet);
    register_syscall(__NR_futex, sys_futex);
    register_syscall(__NR_exit, sys_exit);
    register_syscall(__NR_exit_group, sys_exit_group);
    register_syscall(__NR_gettid, sys_gettid);
    register_syscall(__NR_set_tid_address, sys_gettid);
}

}  // namespace bf
