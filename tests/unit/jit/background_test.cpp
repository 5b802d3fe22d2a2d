// The spare core's job queue (jit/background.cpp): urgent jobs run before the queued others, each
// kind in order; stop() waits for the running job and drops the rest; no spare core when the
// pool uses every core. Also built with ThreadSanitizer (background_tsan_test). Each test runs
// in a process of its own (gtest_discover_tests), so stop() in one does not reach the others.
#include "jit/background.h"

#include "bareflow/pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

namespace bg = bf::jit::background;

namespace {

void wait_done(const bg::Job &j) {
    while (!j.done.load(std::memory_order_acquire)) std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

}  // namespace

TEST(Background, UrgentJobsFirstEachKindInOrder) {
    bf::pool::set_threads(1);  // a core left free (the pool uses every core by default)
    if (!bg::available()) GTEST_SKIP() << "no spare core here (one CPU)";
    std::atomic<bool> release{false};
    bg::Job gate;  // holds the worker while the others queue up
    gate.run = [&] {
        while (!release.load()) std::this_thread::yield();
    };
    ASSERT_TRUE(bg::submit(&gate, false));
    std::mutex m;
    std::vector<int> order;
    bg::Job jobs[5];
    for (int i = 0; i < 5; i++)
        jobs[i].run = [&, i] {
            std::lock_guard<std::mutex> g(m);
            order.push_back(i);
        };
    ASSERT_TRUE(bg::submit(&jobs[0], false));
    ASSERT_TRUE(bg::submit(&jobs[1], false));
    ASSERT_TRUE(bg::submit(&jobs[3], true));
    ASSERT_TRUE(bg::submit(&jobs[2], false));
    ASSERT_TRUE(bg::submit(&jobs[4], true));
    release = true;
    for (const bg::Job &j : jobs) wait_done(j);
    wait_done(gate);
    EXPECT_EQ(order, (std::vector<int>{3, 4, 0, 1, 2}));
}

TEST(Background, StopFinishesTheRunningJobAndDropsTheQueued) {
    bf::pool::set_threads(1);
    if (!bg::available()) GTEST_SKIP() << "no spare core here (one CPU)";
    std::atomic<bool> started{false};
    std::atomic<int> ran{0};
    bg::Job slow, queued;
    slow.run = [&] {
        started = true;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        ran++;
    };
    queued.run = [&] { ran += 10; };
    ASSERT_TRUE(bg::submit(&slow, false));
    ASSERT_TRUE(bg::submit(&queued, false));
    while (!started.load()) std::this_thread::yield();
    bg::stop();
    EXPECT_TRUE(slow.done.load());    // stop() returned after it
    EXPECT_FALSE(queued.done.load());  // dropped: never run
    EXPECT_EQ(ran.load(), 1);
    EXPECT_FALSE(bg::available());     // nothing more is accepted
    EXPECT_FALSE(bg::submit(&queued, false));
}

TEST(Background, NoSpareCoreWhenThePoolUsesEveryCore) {
    bf::pool::set_threads(bf::pool::cores_online());
    EXPECT_FALSE(bg::available());
    bg::Job j;
    j.run = [] {};
    EXPECT_FALSE(bg::submit(&j, false));  // the caller runs it itself
}
