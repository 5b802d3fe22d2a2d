// The Linux x86-64 syscall layer: one function per syscall (sys_*.cpp), a table by number.
#pragma once
#include <stdint.h>

namespace bf {

struct SyscallFrame {  // as pushed by syscall/entry.S, lowest address first
    int64_t nr;
    uint64_t rbp;
    int64_t a5, a4, a3, a2, a1, a0;
    uint64_t rflags, rip, rsp;
};

using SyscallFn = int64_t (*)(const SyscallFrame &f);

void syscall_init();   // MSRs, extended-state save mode, the table, the BSP's GS (percpu.h)
uint64_t syscall_count();
void syscall_trace(bool on);  // "strace" on the kernel command line: log every call and result

// Handlers run one at a time, whatever the core (one lock around them all). A handler that waits
// for something another core's system call may bring (a futex wake, console input, time) lets
// the others in while it waits: syscall_wait_step() in a polling loop (a pause with the lock
// handed on), or held = syscall_unlock() ... syscall_relock(held) around a longer wait. Outside
// a handler both are no-ops (the console's input loop also runs in the kernel's own REPL).
void syscall_wait_step();
bool syscall_unlock();
void syscall_relock(bool held);

// Each sys_*.cpp registers its handlers here (called by syscall_init).
void register_syscall(int nr, SyscallFn fn);
void register_memory_syscalls();
void register_process_syscalls();
void register_io_syscalls();
void register_file_syscalls();
void register_time_syscalls();
void register_thread_syscalls();

// True when [p, p + n) can be read (or written) without faulting: user pointers are checked so
// a bad one gives EFAULT, as on Linux, instead of a kernel panic.
bool user_readable(const void *p, uint64_t n);
bool user_writable(void *p, uint64_t n);

}  // namespace bf
