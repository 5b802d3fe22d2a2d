// Program threads on application processors (thread.cpp), for the clone/exit system calls.
#pragma once
#include <stdint.h>

namespace bf::smp {

struct ThreadStart {
    uint64_t rip, rsp, fs, rflags;  // where the child's `syscall` returns, on what, with what TLS
    int tid;
    uint64_t clear_tid;             // CLONE_CHILD_CLEARTID's word, 0 if none
    int started;                    // set by the lent core once it copied this
};

// Starts the thread on an idle core (pool::lend) and waits until that core has copied *st.
// Returns the worker index, or -1 when no core is free.
int start_thread(ThreadStart *st);
bool on_thread();        // this core runs a program thread (not the BSP's main one)
int threads_running();   // program threads besides the main one
// From the thread's exit system call, the syscall lock released: back to the pool.
[[noreturn]] void thread_exit();

}  // namespace bf::smp
