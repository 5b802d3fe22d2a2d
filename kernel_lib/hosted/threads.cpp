// Hosted mode's side of the thread pool (kernel_lib/smp/pool.cpp): POSIX threads, futexes and
// the number of CPUs this process may run on.
#include "hosted.h"

#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace bf::hosted {

namespace {
struct Start {
    void (*fn)(int);
    int arg;
};
Start starts[64];

void *trampoline(void *p) {
    const Start *s = static_cast<const Start *>(p);
    s->fn(s->arg);
    return nullptr;
}
}  // namespace

int cpu_count() {
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) != 0) return 1;
    int n = CPU_COUNT(&set);
    return n > 0 ? n : 1;
}

bool thread_start(void (*fn)(int), int arg) {
    if (arg < 0 || arg >= 64) return false;
    starts[arg] = Start{fn, arg};
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_t t;
    int r = pthread_create(&t, &attr, trampoline, &starts[arg]);
    pthread_attr_destroy(&attr);
    if (r != 0) fprintf(stderr, "pool: cannot start worker thread %d (error %d): running with fewer\n", arg, r);
    return r == 0;
}

void futex_wait(uint32_t *word, uint32_t seen) {
    syscall(SYS_futex, word, FUTEX_WAIT_PRIVATE, seen, nullptr, nullptr, 0);
}

void futex_wake_all(uint32_t *word) {
    syscall(SYS_futex, word, FUTEX_WAKE_PRIVATE, 0x7fffffff, nullptr, nullptr, 0);
}

}  // namespace bf::hosted
