// The spare core's compile thread (background.h): a queue of jobs (the urgent ones first, each
// kind in order) and one POSIX thread that runs them while there are any. The thread ends when
// the queue is empty and the next submit starts a new one, so the core is only held while it
// compiles: on bare metal it is a pool worker's core, lent to the thread (smp/thread.cpp), and
// the pool has it back as soon as the thread ends. At exit the job running is finished (LLVM
// must not be torn down under it) and the rest are dropped: nothing waits for them any more.
#include "background.h"

#include "jit.h"
#include "bareflow/kernel.h"
#include "bareflow/pool.h"

#include <errno.h>
#include <pthread.h>

#include <cstdio>
#include <cstdlib>
#include <deque>

namespace bf::jit::background {

namespace {

pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
std::deque<Job *> *queue;  // new'd once: no destructor runs at exit under a worker using it
size_t urgent_queued;      // the first ones in queue are urgent
bool running;              // the thread is in its loop: it will see a job queued now
bool joinable;             // a thread was started and not joined yet
bool failed, stopping;
pthread_t worker;

void *worker_main(void *) {
    pthread_mutex_lock(&lock);
    while (!stopping && !queue->empty()) {
        Job *j = queue->front();
        queue->pop_front();
        if (urgent_queued) urgent_queued--;
        pthread_mutex_unlock(&lock);
        j->run();
        j->done.store(true, std::memory_order_release);
        pthread_mutex_lock(&lock);
    }
    running = false;
    pthread_mutex_unlock(&lock);
    return nullptr;
}

void stop_at_exit() { stop(); }

// With the lock held: a thread for the queue, unless one is still in its loop. False when none
// can be had; EAGAIN (every core busy for now) only fails this once.
bool ensure_thread() {
    if (running) return true;
    if (joinable) {  // it left its loop: it is ending, if not ended
        pthread_join(worker, nullptr);
        joinable = false;
    }
    if (int e = pthread_create(&worker, nullptr, worker_main, nullptr)) {
        fprintf(stderr, "jit: no compile thread (error %d): this compile runs on the calling core%s\n",
                e, e == EAGAIN ? "" : ", and all that follow");
        if (e != EAGAIN) failed = true;
        return false;
    }
    running = joinable = true;
    return true;
}

}  // namespace

void stop() {
    if (stopping) return;
    pthread_mutex_lock(&lock);
    stopping = true;
    pthread_mutex_unlock(&lock);
    if (joinable) pthread_join(worker, nullptr);
    joinable = false;
}

bool available() {
    return !stopping && options().compile == Options::Compile::Background && !failed &&
           pool::threads() < pool::cores_online();
}

bool submit(Job *j, bool urgent) {
    if (!available()) return false;
    if (!queue) {
        queue = new std::deque<Job *>();
        atexit(stop_at_exit);
    }
    pthread_mutex_lock(&lock);
    bool ok = ensure_thread();
    if (ok && urgent) queue->insert(queue->begin() + long(urgent_queued++), j);
    else if (ok) queue->push_back(j);
    pthread_mutex_unlock(&lock);
    return ok;
}

}  // namespace bf::jit::background
