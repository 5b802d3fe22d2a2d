// The thread pool (bareflow/pool.h): one worker per core, the same code hosted and on bare metal.
// Only starting a worker and sleeping/waking differ: hosted, a POSIX thread sleeping in a futex;
// bare metal, an application processor (smp/ap_boot.cpp) sleeping in `hlt`, woken by an IPI.
//
// One job at a time. run() publishes the job, then bumps `ticket`, the one word workers watch:
// (sequence << 8) | threads in use, so a worker learns from that word alone whether it takes
// part (a worker that is not in use never reads the job, which the caller may already be
// rewriting). Indices come from an atomic counter; each worker that took part adds one to
// `finished`, and run() returns when all have. A worker spins on `ticket` (pause) for
// kSpinMicros after its last job, so back-to-back operations of a forward pass (tens of
// microseconds apart) never pay a wake-up; then it sleeps.
//
// Bare metal, lend() hands an idle worker's core to a program thread (clone, smp/thread.cpp)
// until the thread ends; run() leaves lent workers out meanwhile.
#include "smp.h"

#include "../arch/x86_64/cpu.h"
#include "../hosted/hosted.h"
#include "bareflow/kernel.h"
#include "bareflow/pool.h"

namespace bf::pool {

namespace {

constexpr uint64_t kSpinMicros = 200;
constexpr uint32_t kFsBaseMsr = 0xC0000100;

struct alignas(64) Job {
    void (*fn)(void *, int);
    void *ctx;
    int count;
    uint64_t fs_base;  // bare metal: the caller's TLS, so that errno & co. stay addressable
};

struct alignas(64) Counters {
    int next;      // the next index to hand out
    int finished;  // workers (not the caller) done with this job
};

struct alignas(64) WorkerState {
    uint32_t sleeping;  // 1 while the worker is (about to be) asleep: run() must wake it
    // Bare metal: lend() hands the worker's core to fn(arg) (a program thread, smp/thread.cpp).
    void (*lent_fn)(void *);
    void *lent_arg;
};

Job job;
Counters counters;
alignas(64) uint32_t ticket;  // (sequence << 8) | threads
WorkerState workers[kMaxThreads];
int online_workers;      // workers running worker_main (hosted: threads started)
int in_use = 0;          // 0 until the first threads()/set_threads(): then 1..cores_online()
bool hosted_started;     // hosted: the worker threads exist
bool running;            // inside run(): a nested run() works alone
uint32_t first_ticket;   // the ticket when workers start (no job is in flight then)
uint64_t spin_cycles;
uint64_t lent;           // bit w: worker w's core runs a lent function, not pool jobs

// Bare metal: how to sleep and wake (kernel_main installs the bring-up's functions).
int (*bare_found)();
void (*bare_wake)(int worker);
void (*bare_halt)();
void (*bare_sync_tlb)();  // the BSP may have unmapped pages since this core last ran a job

inline void pause() { asm volatile("pause" ::: "memory"); }
inline uint32_t load(const uint32_t *p) { return __atomic_load_n(p, __ATOMIC_SEQ_CST); }
inline auto lent_fn(int w) { return __atomic_load_n(&workers[w].lent_fn, __ATOMIC_SEQ_CST); }

// Set before any worker starts (workers only read it).
void set_spin_budget() {
    uint64_t hz = tsc_hz();
    spin_cycles = hz ? hz / 1000000 * kSpinMicros : 400000;
}

void take_indices() {
    for (;;) {
        int i = __atomic_fetch_add(&counters.next, 1, __ATOMIC_RELAXED);
        if (i >= job.count) return;
        job.fn(job.ctx, i);
    }
}

void hosted_worker(int w) { worker_main(w); }

void start_hosted_workers() {
    hosted_started = true;
    set_spin_budget();
    first_ticket = load(&ticket);  // a worker that read `ticket` itself could miss the first job
    int want = hosted::cpu_count();
    if (want > kMaxThreads) want = kMaxThreads;
    for (int w = 1; w < want; w++) {
        if (!hosted::thread_start(hosted_worker, w)) break;
        online_workers = w;
    }
}

}  // namespace

[[noreturn]] void worker_main(int w) {
    if (bare_metal()) __atomic_fetch_add(&online_workers, 1, __ATOMIC_SEQ_CST);
    uint32_t seen = first_ticket;
    uint64_t fs = 0;
    for (;;) {
        uint32_t t;
        uint64_t idle_since = cpu::rdtsc();
        while ((t = load(&ticket)) == seen && !lent_fn(w)) {
            if (cpu::rdtsc() - idle_since < spin_cycles) {
                pause();
                continue;
            }
            // Dekker with run(): we store `sleeping` then read `ticket`; run() stores `ticket`
            // then reads `sleeping` (all sequentially consistent), so either we see the new
            // ticket here or run() sees us asleep and wakes us.
            __atomic_store_n(&workers[w].sleeping, 1u, __ATOMIC_SEQ_CST);
            if (load(&ticket) == seen && !lent_fn(w)) {
                if (bare_metal()) bare_halt();  // sti; hlt: the wake IPI ends it
                else hosted::futex_wait(&ticket, seen);
            }
            __atomic_store_n(&workers[w].sleeping, 0u, __ATOMIC_SEQ_CST);
            idle_since = cpu::rdtsc();
        }
        if (void (*fn)(void *) = lent_fn(w)) {
            // run() leaves a lent worker out (it caps its threads below it), so no job waits
            // for this one; `seen` stays, and the next ticket is read afresh below.
            fn(workers[w].lent_arg);
            __atomic_store_n(&workers[w].lent_fn, nullptr, __ATOMIC_SEQ_CST);
            __atomic_fetch_and(&lent, ~(1ull << w), __ATOMIC_SEQ_CST);
            continue;
        }
        seen = t;
        if (w >= int(t & 0xFF)) continue;  // not in use for this job
        if (bare_metal() && job.fs_base != fs) cpu::wrmsr(kFsBaseMsr, fs = job.fs_base);
        if (bare_metal()) bare_sync_tlb();  // a spinning worker never went through idle_halt
        take_indices();
        __atomic_fetch_add(&counters.finished, 1, __ATOMIC_RELEASE);
    }
}

void use_processors(int (*found)(), void (*wake)(int), void (*halt)(), void (*sync_tlb)()) {
    set_spin_budget();
    bare_found = found;
    bare_wake = wake;
    bare_halt = halt;
    bare_sync_tlb = sync_tlb;
}

int cores_found() { return bare_metal() ? (bare_found ? bare_found() : 1) : hosted::cpu_count(); }

int cores_online() {
    if (bare_metal()) return 1 + __atomic_load_n(&online_workers, __ATOMIC_SEQ_CST);
    if (hosted_started) return 1 + online_workers;
    int n = hosted::cpu_count();
    return n > kMaxThreads ? kMaxThreads : n;
}

int threads() {
    if (!in_use) set_threads(cores_online());
    return in_use;
}

int set_threads(int n) {
    if (!bare_metal() && n > 1 && !hosted_started) start_hosted_workers();
    int online = cores_online();
    in_use = n < 1 ? 1 : n > online ? online : n;
    return in_use;
}

int lend(void (*fn)(void *), void *arg) {
    if (!bare_metal()) return -1;
    int online = cores_online();
    for (int w = online - 1; w >= threads() && w >= 1; w--) {
        uint64_t bit = 1ull << w, old = __atomic_load_n(&lent, __ATOMIC_SEQ_CST);
        if (old & bit) continue;
        if (!__atomic_compare_exchange_n(&lent, &old, old | bit, false, __ATOMIC_SEQ_CST,
                                         __ATOMIC_SEQ_CST))
            continue;
        workers[w].lent_arg = arg;
        __atomic_store_n(&workers[w].lent_fn, fn, __ATOMIC_SEQ_CST);
        if (load(&workers[w].sleeping)) bare_wake(w);  // Dekker, as run()'s wake below
        return w;
    }
    return -1;
}

void run(int count, void (*fn)(void *, int), void *ctx) {
    if (count <= 0) return;
    int t = threads();
    if (uint64_t l = __atomic_load_n(&lent, __ATOMIC_SEQ_CST); l && t > __builtin_ctzll(l))
        t = __builtin_ctzll(l);  // workers 1..t-1 take part: none of them lent
    if (t > count) t = count;
    if (t <= 1 || running) {
        for (int i = 0; i < count; i++) fn(ctx, i);
        return;
    }
    running = true;
    job.fn = fn;
    job.ctx = ctx;
    job.count = count;
    job.fs_base = bare_metal() ? cpu::rdmsr(kFsBaseMsr) : 0;
    __atomic_store_n(&counters.next, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&counters.finished, 0, __ATOMIC_RELAXED);
    uint32_t next = (((load(&ticket) >> 8) + 1) << 8) | uint32_t(t);
    __atomic_store_n(&ticket, next, __ATOMIC_SEQ_CST);  // publishes the job (release)
    bool any_asleep = false;
    for (int w = 1; w < t; w++) {
        if (!load(&workers[w].sleeping)) continue;
        any_asleep = true;
        if (bare_metal()) bare_wake(w);
    }
    if (any_asleep && !bare_metal()) hosted::futex_wake_all(&ticket);
    take_indices();
    while (__atomic_load_n(&counters.finished, __ATOMIC_ACQUIRE) < t - 1) pause();
    running = false;
}

}  // namespace bf::pool
