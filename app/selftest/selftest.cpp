// `bareflow selftest`: exercises the C/C++ runtime the way ordinary programs use it. Its lines
// (all prefixed "selftest:") are deterministic, so the bare-metal run and the hosted run must print
// exactly the same thing (tests/boot/selftest.test diffs them).
#include "selftest.h"

#include "bareflow/kernel.h"
#include "bareflow/profile.h"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>
#include <new>
#include <random>
#include <string>
#include <thread>
#include <unistd.h>
#include <sys/syscall.h>
#include <unordered_map>
#include <vector>

namespace bf::app {

namespace {

int failures;

void check(bool ok, const char *what) {
    std::printf("selftest: %-48s %s\n", what, ok ? "ok" : "FAILED");
    if (!ok) failures++;
}

}  // namespace

int run_selftest() {
    char buf[128];
    std::snprintf(buf, sizeof buf, "%f %.3e %g %d %s", 3.14159265, 0.001234, 2.5, -42, "str");
    std::printf("selftest: printf: %s\n", buf);
    check(std::strcmp(buf, "3.141593 1.234e-03 2.5 -42 str") == 0, "printf %f %e %g");

    std::string s = "hello";
    s += ", bare metal";
    std::printf("selftest: std::string: \"%s\" (%zu bytes)\n", s.c_str(), s.size());
    check(s.size() == 17 && s.find("bare") == 7, "std::string");

    std::vector<long> v;
    for (long i = 0; i < 100000; i++) v.push_back(i);
    long sum = 0;
    for (long x : v) sum += x;
    std::printf("selftest: std::vector: %zu elements, sum %ld\n", v.size(), sum);
    check(sum == 4999950000L, "std::vector");

    std::map<std::string, int> m{{"cherry", 3}, {"apple", 1}, {"banana", 2}};
    std::string order;
    for (auto &[k, val] : m) order += k + "=" + std::to_string(val) + " ";
    std::printf("selftest: std::map: %s\n", order.c_str());
    check(order == "apple=1 banana=2 cherry=3 ", "std::map (ordered)");

    std::unordered_map<int, long> um;
    for (int i = 0; i < 10000; i++) um[i] = long(i) * i;
    std::printf("selftest: std::unordered_map: %zu entries, [777] = %ld\n", um.size(), um[777]);
    check(um.size() == 10000 && um[777] == 603729, "std::unordered_map");

    std::vector<unsigned> r(100000);
    unsigned x = 12345;
    for (auto &e : r) e = x = x * 1103515245u + 12345u;
    std::sort(r.begin(), r.end());
    std::printf("selftest: std::sort: 100000 values, first %u, last %u\n", r.front(), r.back());
    check(std::is_sorted(r.begin(), r.end()), "std::sort");

    auto t0 = std::chrono::steady_clock::now();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
    check(ms >= 20 && ms < 2000, "std::chrono steady_clock + sleep_for(20 ms)");
    auto wall = std::chrono::system_clock::now().time_since_epoch();
    check(std::chrono::duration_cast<std::chrono::hours>(wall).count() > 24 * 365 * 50,
          "std::chrono system_clock after 2020");

    std::random_device rd;
    unsigned a = rd(), b = rd(), c = rd();
    check(!(a == b && b == c), "std::random_device");
    std::mt19937 gen(42);
    unsigned long g1 = gen(), g2 = gen();
    std::printf("selftest: std::mt19937(42): %lu %lu\n", g1, g2);

    constexpr size_t kBig = size_t(2) << 30;  // 2 GiB
    char *big = new (std::nothrow) char[kBig];
    bool big_ok = big != nullptr;
    if (big) {
        for (size_t i = 0; i < kBig; i += 4096) big[i] = char(i >> 12);
        for (size_t i = 0; i < kBig && big_ok; i += 4096) big_ok = big[i] == char(i >> 12);
        delete[] big;
    }
    check(big_ok, "new/delete of a 2 GiB block, every page touched");
    char *again = new (std::nothrow) char[kBig];
    check(again != nullptr, "the 2 GiB came back after delete");
    delete[] again;

    errno = 0;
    FILE *f = std::fopen("/models/missing.bin", "rb");
    std::printf("selftest: fopen(\"/models/missing.bin\"): %s\n", f ? "opened" : std::strerror(errno));
    check(!f && errno == ENOENT, "fopen of a missing file gives ENOENT");
    if (f) std::fclose(f);

    errno = 0;
    long rc = syscall(1000);
    std::printf("selftest: syscall(1000) = %ld, errno %d (%s)\n", rc, errno, std::strerror(errno));
    check(rc == -1 && errno == ENOSYS, "unknown syscall gives ENOSYS and we continue");

    if (bf::bare_metal()) {  // hosted, the test harness pipes stdout: not a terminal there
        bool tty = isatty(0) && isatty(1);
        std::printf("selftest-bare: stdin and stdout are terminals: %s\n", tty ? "ok" : "FAILED");
        if (!tty) failures++;
    }

    bf::prof::Region *pr = bf::prof::region("selftest.sort1000");
    for (int i = 0; i < 1000; i++) {
        bf::prof::Scope scope(pr);
        std::sort(r.begin(), r.begin() + 1000, std::greater<unsigned>());
    }
    check(pr->calls == 1000 && pr->min <= pr->total / pr->calls && pr->total / pr->calls <= pr->max &&
              pr->min > 0,
          "profiler: 1000 calls, min <= mean <= max");
    std::fflush(stdout);
    bf::prof::report("selftest");

    std::printf("selftest: %s (%d failed)\n", failures ? "FAILED" : "all passed", failures);
    return failures ? 1 : 0;
}

namespace {
// Three frames deep, so the panic's backtrace has something to name.
[[gnu::noinline]] void fault_write(volatile int *p) { *p = 42; }
[[gnu::noinline]] void fault_middle(volatile int *p) {
    fault_write(p);
    asm volatile("");  // keep the call a call, not a tail jump
}
}  // namespace

int run_fault() {
    std::printf("fault: writing through a null pointer (page 0 is unmapped)\n");
    std::fflush(stdout);
    fault_middle(reinterpret_cast<volatile int *>(uintptr_t(16)));
    std::printf("fault: FAILED, the write did not fault\n");
    return 1;
}

int run_write_text() {
    auto *code = reinterpret_cast<volatile unsigned char *>(&run_write_text);
    std::printf("wx: writing to the program's own code at %p (text is mapped read-execute)\n",
                static_cast<void *>(const_cast<unsigned char *>(code)));
    std::fflush(stdout);
    code[0] = 0xC3;
    std::printf("wx: FAILED, code was writable\n");
    return 1;
}

int run_stdin_echo() {
    char line[2048];
    int n = 0;
    while (std::fgets(line, sizeof line, stdin)) {
        size_t len = std::strlen(line);
        if (len && line[len - 1] == '\n') line[--len] = 0;
        std::printf("stdin: line %d: %zu bytes: %.60s\n", ++n, len, line);
    }
    std::printf("stdin: end of file after %d lines\n", n);
    return 0;
}

int run_alloc_exhaustion() {
    if (!bf::bare_metal()) {
        std::printf("alloc: bare metal only (a Linux host would overcommit, then swap or OOM-kill)\n");
        return 2;
    }
    constexpr size_t kChunk = size_t(16) << 20;
    std::vector<char *> blocks;
    blocks.reserve(65536);
    for (;;) {
        char *p = static_cast<char *>(std::malloc(kChunk));
        if (!p) break;
        for (size_t i = 0; i < kChunk; i += 4096) p[i] = 1;  // really backed, really writable
        blocks.push_back(p);
    }
    std::printf("alloc: malloc returned NULL after %zu MiB in 16 MiB blocks\n", blocks.size() * 16);
    // The pointer must escape, or the compiler may elide the new/delete pair and assume success.
    char *huge = new (std::nothrow) char[size_t(1) << 40];
    asm volatile("" ::"r"(huge) : "memory");
    std::printf("alloc: new (nothrow) char[1 TiB] = %s\n", huge ? "non-null" : "nullptr");
    if (huge) huge[0] = 1;
    delete[] huge;
    for (char *p : blocks) std::free(p);
    char *again = static_cast<char *>(std::malloc(kChunk * 4));
    std::printf("alloc: after freeing everything, 64 MiB: %s\n", again ? "ok" : "FAILED");
    std::free(again);
    bool ok = !blocks.empty() && !huge && again;
    std::printf("alloc: %s\n", ok ? "exhaustion handled" : "FAILED");
    return ok ? 0 : 1;
}

}  // namespace bf::app
