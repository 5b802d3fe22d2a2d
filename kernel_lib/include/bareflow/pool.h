// The thread pool: one worker per core, the same API hosted (POSIX threads) and on bare metal
// (application processors started at boot, kernel_lib/smp/). No scheduler: a worker is a core.
//
// run(count, fn, ctx) calls fn(ctx, i) once for every i < count; the indices are handed out by
// an atomic counter to the caller and the workers in use, and run() returns when all are done
// (one barrier per call). Workers between calls spin briefly (pause), then sleep: hosted in a
// futex, bare metal in `hlt`, woken by an IPI.
//
// Rules for fn: it runs on any core, so it must not allocate, print, or call run() (not
// reentrant), and should not make system calls (bare metal: they work, but one lock serializes
// them across cores).
#pragma once
#include <stdint.h>

namespace bf::pool {

constexpr int kMaxThreads = 64;

int cores_found();   // processors the firmware lists (bare metal: ACPI MADT) or the OS grants
int cores_online();  // cores ready to work (the caller included)
int threads();       // cores run() uses now (the caller included), 1..cores_online()
// Uses n cores from now on (clamped to 1..cores_online()); returns the number in use. Hosted, the
// worker threads start at the first call that asks for more than one.
int set_threads(int n);

void run(int count, void (*fn)(void *ctx, int i), void *ctx);

// run() with a callable: for_each(count, [&](int i) { ... }).
template <typename F> void for_each(int count, F &&f) {
    run(count, [](void *c, int i) { (*static_cast<F *>(c))(i); }, &f);
}

}  // namespace bf::pool
