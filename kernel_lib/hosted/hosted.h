// Hosted mode: the ELF runs as a Linux process and kernel_lib's services use the host's.
// Only this folder calls libc on kernel_lib's behalf; everything else in kernel_lib must work
// before glibc is initialized (the build checks that with nm).
#pragma once
#include <stddef.h>
#include <stdint.h>

namespace bf::hosted {
void write_fd(int fd, const char *s, size_t n);  // all of it (1 = stdout, 2 = stderr)
[[noreturn]] void exit(int status);
uint64_t monotonic_ns();  // CLOCK_MONOTONIC

// threads.cpp, for the pool (smp/pool.cpp).
int cpu_count();                               // CPUs in this process's affinity mask
bool thread_start(void (*fn)(int), int arg);   // a detached thread running fn(arg); arg < 64
void futex_wait(uint32_t *word, uint32_t seen);  // sleeps while *word == seen (may wake early)
void futex_wake_all(uint32_t *word);
}  // namespace bf::hosted
