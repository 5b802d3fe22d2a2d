// The spare core's compile thread (background.h): one POSIX thread, a queue of jobs (the urgent
// ones first, each kind in order), started at the first job. At exit the job running is finished (LLVM must not be torn down under it) and
// the rest are dropped: nothing waits for them any more.
#include "background.h"

#include "jit.h"
#include "bareflow/kernel.h"
#include "bareflow/pool.h"

#include <pthread.h>

#include <cstdio>
#include <cstdlib>
#include <deque>

namespace bf::jit::background {

namespace {

pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
std::deque<Job *> *queue;  // new'd once: no destructor runs at exit under a worker using it
size_t urgent_queued;      // the first ones in queue are urgent
bool started, failed, stopping;
pthread_t worker;

void *worker_main(void *) {
    pthread_mutex_lock(&lock);
    for (;;) {
        while (!stopping && queue->empty()) pthread_cond_wait(&wake, &lock);
        if (stopping) break;
        Job *j = queue->front();
        queue->pop_front();
        if (urgent_queued) urgent_queued--;
        pthread_mutex_unlock(&lock);
        j->run();
        j->done.store(true, std::memory_order_release);
        pthread_mutex_lock(&lock);
    }
    pthread_mutex_unlock(&lock);
    return nullptr;
}

void stop_at_exit() { stop(); }

bool start() {
    if (started || failed) return started;
    queue = new std::deque<Job *>();
    if (int e = pthread_create(&worker, nullptr, worker_main, nullptr)) {
        fprintf(stderr, "jit: no compile thread (error %d): compiles run on the calling core\n", e);
        failed = true;
        return false;
    }
    started = true;
    atexit(stop_at_exit);
    return true;
}

}  // namespace

void stop() {
    if (!started || stopping) return;
    pthread_mutex_lock(&lock);
    stopping = true;
    pthread_cond_signal(&wake);
    pthread_mutex_unlock(&lock);
    pthread_join(worker, nullptr);
}

bool available() {
    return !bare_metal() && !stopping && options().compile == Options::Compile::Background && !failed &&
           pool::threads() < pool::cores_online();
}

bool submit(Job *j, bool urgent) {
    if (!available() || !start()) return false;
    pthread_mutex_lock(&lock);
    if (urgent) queue->insert(queue->begin() + long(urgent_queued++), j);
    else queue->push_back(j);
    pthread_cond_signal(&wake);
    pthread_mutex_unlock(&lock);
    return true;
}

}  // namespace bf::jit::background
