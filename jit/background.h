// A spare core for the JIT's compiles, so that generation never waits for one: while a kernel
// compiles there, its calls keep running the AOT version. A POSIX thread in both modes (LLVM
// allocates, and glibc's allocator must know there are threads): hosted an OS thread, bare metal
// a core the pool does not use, lent to the thread while it has compiles to run.
#pragma once
#include <atomic>
#include <functional>

namespace bf::jit::background {

struct Job {
    std::function<void()> run;     // runs on the spare core: must not touch the caller's state
    std::atomic<bool> done{false};  // set (release) after run() returned
};

// Whether jobs can run off the calling thread now: hosted, and the pool leaves a core free
// (threads < cores online), unless `jit_compile = inline`.
bool available();
// Queues j (one at a time on the spare core; urgent jobs first, each kind in order). The caller
// keeps j and polls j->done; it must not free j before done. False when no spare core can be had:
// run it yourself.
bool submit(Job *j, bool urgent);
// Before the program exits: waits for the job running (LLVM must not be torn down under it) and
// drops the queued ones. Also run at exit, but static objects made after the first job would
// already be gone by then: main() calls it when the command returns.
void stop();

}  // namespace bf::jit::background
