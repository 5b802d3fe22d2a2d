// Clocks from the TSC: MONOTONIC counts from kernel entry, REALTIME adds the CMOS clock read at
// boot. Sleeps spin on the TSC (interrupts stay off).
#include <asm/unistd_64.h>

#include "../time/tsc.h"
#include "errno.h"
#include "syscall.h"

namespace bf {

namespace {

struct Timespec { int64_t sec, nsec; };

bool clock_now(int64_t clk, Timespec &ts) {
    uint64_t ns = monotonic_ns();
    switch (clk) {
    case 0:   // REALTIME
    case 5:   // REALTIME_COARSE
    case 11:  // TAI
        ns += realtime_at_boot_ns();
        break;
    case 1: case 2: case 3: case 4: case 6: case 7: break;  // monotonic, cputime, boottime
    default: return false;
    }
    ts.sec = int64_t(ns / 1000000000);
    ts.nsec = int64_t(ns % 1000000000);
    return true;
}

int64_t sys_clock_gettime(const SyscallFrame &f) {
    auto *ts = reinterpret_cast<Timespec *>(f.a1);
    Timespec now;
    if (!clock_now(f.a0, now)) return -kEINVAL;
    if (!user_writable(ts, sizeof *ts)) return -kEFAULT;
    *ts = now;
    return 0;
}

int64_t sys_clock_getres(const SyscallFrame &f) {
    Timespec now;
    if (!clock_now(f.a0, now)) return -kEINVAL;
    if (auto *ts = reinterpret_cast<Timespec *>(f.a1)) {
        if (!user_writable(ts, sizeof *ts)) return -kEFAULT;
        *ts = {0, 1};
    }
    return 0;
}

int64_t sys_gettimeofday(const SyscallFrame &f) {
    struct Timeval { int64_t sec, usec; };
    if (auto *tv = reinterpret_cast<Timeval *>(f.a0)) {
        if (!user_writable(tv, sizeof *tv)) return -kEFAULT;
        Timespec now;
        clock_now(0, now);
        *tv = {now.sec, now.nsec / 1000};
    }
    return 0;
}

int64_t sleep_until(uint64_t deadline_ns) {
    while (monotonic_ns() < deadline_ns) syscall_wait_step();
    return 0;
}

int64_t sys_nanosleep(const SyscallFrame &f) {
    auto *req = reinterpret_cast<const Timespec *>(f.a0);
    if (!user_readable(req, sizeof *req)) return -kEFAULT;
    if (req->sec < 0 || req->nsec < 0 || req->nsec >= 1000000000) return -kEINVAL;
    return sleep_until(monotonic_ns() + uint64_t(req->sec) * 1000000000 + uint64_t(req->nsec));
}

int64_t sys_clock_nanosleep(const SyscallFrame &f) {
    auto *req = reinterpret_cast<const Timespec *>(f.a2);
    Timespec now;
    if (!clock_now(f.a0, now)) return -kEINVAL;
    if (!user_readable(req, sizeof *req)) return -kEFAULT;
    if (req->sec < 0 || req->nsec < 0 || req->nsec >= 1000000000) return -kEINVAL;
    uint64_t d = uint64_t(req->sec) * 1000000000 + uint64_t(req->nsec);
    if (f.a1 & 1) {  // TIMER_ABSTIME, on this clock
        uint64_t now_ns = uint64_t(now.sec) * 1000000000 + uint64_t(now.nsec);
        return d > now_ns ? sleep_until(monotonic_ns() + (d - now_ns)) : 0;
    }
    return sleep_until(monotonic_ns() + d);
}

int64_t sys_time(const SyscallFrame &f) {
    Timespec now;
    clock_now(0, now);
    if (auto *t = reinterpret_cast<int64_t *>(f.a0)) {
        if (!user_writable(t, 8)) return -kEFAULT;
        *t = now.sec;
    }
    return now.sec;
}

}  // namespace

void register_time_syscalls() {
    register_syscall(__NR_clock_gettime, sys_clock_gettime);
    register_syscall(__NR_clock_getres, sys_clock_getres);
    register_syscall(__NR_gettimeofday, sys_gettimeofday);
    register_syscall(__NR_nanosleep, sys_nanosleep);
    register_syscall(__NR_clock_nanosleep, sys_clock_nanosleep);
    register_syscall(__NR_time, sys_time);
}

}  // namespace bf
