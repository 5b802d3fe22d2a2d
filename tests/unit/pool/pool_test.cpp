// The thread pool (bareflow/pool.h) hosted: every index runs exactly once whatever the thread
// count, uneven counts, more threads than indices, thousands of tiny jobs back to back, and
// workers that went to sleep between jobs. The same file builds as pool_tsan_test under
// ThreadSanitizer, which reports any access the pool's atomics do not order.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "bareflow/pool.h"

namespace {

// Runs `count` indices and checks each ran once; returns the sum of (index + 1) seen.
long run_and_check(int count) {
    std::vector<std::atomic<int>> hits(size_t(count > 0 ? count : 1));
    for (auto &h : hits) h.store(0);
    std::atomic<long> sum{0};
    bf::pool::for_each(count, [&](int i) {
        hits[size_t(i)].fetch_add(1, std::memory_order_relaxed);
        sum.fetch_add(i + 1, std::memory_order_relaxed);
    });
    for (int i = 0; i < count; i++) EXPECT_EQ(hits[size_t(i)].load(), 1) << "index " << i << " of " << count;
    return sum.load();
}

TEST(Pool, CoresAndThreads) {
    EXPECT_GE(bf::pool::cores_found(), 1);
    EXPECT_GE(bf::pool::cores_online(), 1);
    EXPECT_EQ(bf::pool::set_threads(0), 1);          // clamped up
    EXPECT_EQ(bf::pool::set_threads(100000), bf::pool::cores_online());  // clamped down
    EXPECT_LE(bf::pool::cores_online(), bf::pool::kMaxThreads);
    EXPECT_EQ(bf::pool::threads(), bf::pool::cores_online());
}

TEST(Pool, EveryIndexOnceAtEveryThreadCount) {
    for (int t = 1; t <= bf::pool::cores_online(); t++) {
        bf::pool::set_threads(t);
        for (int count : {0, 1, 2, 3, 7, 64, 65, 1000}) {
            long want = long(count) * (count + 1) / 2;
            EXPECT_EQ(run_and_check(count), want) << t << " threads, " << count << " indices";
        }
    }
}

TEST(Pool, ManyTinyJobs) {
    bf::pool::set_threads(bf::pool::cores_online());
    std::vector<int> out(97);
    for (int rep = 0; rep < 20000; rep++) {
        int count = 1 + rep % 97;  // uneven, often fewer indices than threads
        bf::pool::for_each(count, [&](int i) { out[size_t(i)] = rep; });
        for (int i = 0; i < count; i++) ASSERT_EQ(out[size_t(i)], rep) << "rep " << rep << " index " << i;
    }
}

TEST(Pool, WorkersWakeFromSleep) {
    bf::pool::set_threads(bf::pool::cores_online());
    for (int rep = 0; rep < 5; rep++) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));  // past the spin: workers sleep
        EXPECT_EQ(run_and_check(333), 333L * 334 / 2);
    }
}

TEST(Pool, UnevenWorkIsShared) {
    // One slow index must not hold up the rest: index 0 waits until the other 63 have run, which
    // only happens if another thread takes them meanwhile (a pool that ran everything on one
    // thread would hang here and fail on the test's timeout).
    if (bf::pool::cores_online() < 2) GTEST_SKIP() << "one CPU";
    bf::pool::set_threads(2);
    std::atomic<int> others{0};
    std::atomic<bool> release{false};
    bf::pool::for_each(64, [&](int i) {
        if (i == 0) {
            while (!release.load()) std::this_thread::yield();
            return;
        }
        if (others.fetch_add(1) + 1 == 63) release.store(true);
    });
    EXPECT_EQ(others.load(), 63);
}

TEST(Pool, NestedRunWorksAlone) {
    bf::pool::set_threads(bf::pool::cores_online());
    std::atomic<int> inner{0};
    bf::pool::for_each(4, [&](int) { bf::pool::for_each(5, [&](int) { inner.fetch_add(1); }); });
    EXPECT_EQ(inner.load(), 20);
}

}  // namespace
