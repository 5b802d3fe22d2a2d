// The process: one, pid 1, root. Identity, limits, signals (recorded, never delivered), TLS
// base, random bytes. Its threads (clone, exit, futex) are in sys_thread.cpp.
#include <asm/unistd_64.h>

#include "../arch/x86_64/cpu.h"
#include "../mm/phys.h"
#include "../time/tsc.h"
#include "bareflow/kernel.h"
#include "errno.h"
#include "syscall.h"

namespace bf {

namespace {

int64_t sys_arch_prctl(const SyscallFrame &f) {
    constexpr int kSetGs = 0x1001, kSetFs = 0x1002, kGetFs = 0x1003, kGetGs = 0x1004;
    switch (f.a0) {
    case kSetFs: cpu::wrmsr(0xC0000100, uint64_t(f.a1)); return 0;
    case kSetGs:
    case kGetGs: return -kEPERM;  // GS base is the kernel's: per-CPU data (arch/x86_64/percpu.h)
    case kGetFs: {
        auto *out = reinterpret_cast<uint64_t *>(f.a1);
        if (!user_writable(out, 8)) return -kEFAULT;
        *out = cpu::rdmsr(0xC0000100);
        return 0;
    }
    default: return -kEINVAL;
    }
}

int64_t sys_zero(const SyscallFrame &) { return 0; }
int64_t sys_one(const SyscallFrame &) { return 1; }
int64_t sys_enosys_quiet(const SyscallFrame &) { return -kENOSYS; }  // rseq: glibc copes

int64_t sys_prlimit64(const SyscallFrame &f) {
    struct Rlimit { uint64_t cur, max; };
    auto *old = reinterpret_cast<Rlimit *>(f.a3);
    if (old) {
        if (!user_writable(old, sizeof *old)) return -kEFAULT;
        constexpr uint64_t kInfinity = ~0ull;
        switch (f.a1) {
        case 3: *old = {8ull << 20, kInfinity}; break;  // RLIMIT_STACK: the 8 MiB we map
        case 7: *old = {1024, 1024}; break;             // RLIMIT_NOFILE
        default: *old = {kInfinity, kInfinity};
        }
    }
    return 0;
}

int64_t sys_uname(const SyscallFrame &f) {
    char *u = reinterpret_cast<char *>(f.a0);
    if (!user_writable(u, 6 * 65)) return -kEFAULT;
    const char *fields[6] = {"BareFlow", "bareflow", "6.1.0-bareflow", "#1", "x86_64", "(none)"};
    for (int i = 0; i < 6; i++) {
        char *d = u + 65 * i;
        int j = 0;
        for (; fields[i][j]; j++) d[j] = fields[i][j];
        for (; j < 65; j++) d[j] = 0;
    }
    return 0;
}

int64_t sys_rt_sigaction(const SyscallFrame &f) {
    if (f.a2) {  // old action: "default"
        auto *old = reinterpret_cast<uint8_t *>(f.a2);
        if (!user_writable(old, 32)) return -kEFAULT;
        for (int i = 0; i < 32; i++) old[i] = 0;
    }
    return 0;
}

int64_t sys_rt_sigprocmask(const SyscallFrame &f) {
    if (f.a2) {
        auto *old = reinterpret_cast<uint64_t *>(f.a2);
        if (!user_writable(old, 8)) return -kEFAULT;
        *old = 0;
    }
    return 0;
}

int64_t sys_sched_getaffinity(const SyscallFrame &f) {
    auto *mask = reinterpret_cast<uint8_t *>(f.a2);
    uint64_t len = uint64_t(f.a1);
    if (len < 8) return -kEINVAL;
    if (!user_writable(mask, 8)) return -kEFAULT;
    for (int i = 0; i < 8; i++) mask[i] = i == 0 ? 1 : 0;  // CPU 0 only
    return 8;
}

// Random bytes: RDSEED, else RDRAND, else (no hardware RNG) a TSC-seeded mix, said once.
uint64_t random64() {
    static const bool rdseed = cpu::cpuid(7).b & (1u << 18);
    static const bool rdrand = cpu::cpuid(1).c & (1u << 30);
    uint64_t v;
    unsigned char ok;
    for (int tries = 0; tries < 16; tries++) {
        if (rdseed) asm volatile("rdseed %0; setc %1" : "=r"(v), "=qm"(ok));
        else if (rdrand) asm volatile("rdrand %0; setc %1" : "=r"(v), "=qm"(ok));
        else break;
        if (ok) return v;
    }
    static bool said;
    if (!said) {
        said = true;
        kprintf("getrandom: no working RDSEED/RDRAND: using a TSC-seeded generator\n");
    }
    static uint64_t s = cpu::rdtsc();
    uint64_t z = (s += 0x9E3779B97F4A7C15ull ^ cpu::rdtsc());
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

int64_t sys_getrandom(const SyscallFrame &f) {
    auto *buf = reinterpret_cast<uint8_t *>(f.a0);
    uint64_t n = uint64_t(f.a1);
    if (!user_writable(buf, n)) return -kEFAULT;
    for (uint64_t i = 0; i < n; i += 8) {
        uint64_t r = random64();
        for (uint64_t k = 0; k < 8 && i + k < n; k++) buf[i + k] = uint8_t(r >> (8 * k));
    }
    return int64_t(n);
}

int64_t sys_kill(const SyscallFrame &f) {  // kill/tgkill/tkill: raise() and abort() end here
    int sig = int(f.nr == __NR_tgkill ? f.a2 : f.a1);
    if (sig == 0) return 0;
    kprintf("BareFlow: the program raised signal %d (%s); no handlers on bare metal\n", sig,
            sig == 6 ? "SIGABRT, abort()" : "terminating");
    shutdown(128 + sig);
}

int64_t sys_sysinfo(const SyscallFrame &f) {  // struct sysinfo: uptime, RAM, one process
    auto *si = reinterpret_cast<uint8_t *>(f.a0);
    if (!user_writable(si, 112)) return -kEFAULT;
    for (int i = 0; i < 112; i++) si[i] = 0;
    int64_t uptime = int64_t(monotonic_ns() / 1000000000ull);
    uint64_t total = phys::total_frames() * phys::kPage, free = phys::free_frames() * phys::kPage;
    uint16_t procs = 1;
    uint32_t unit = 1;
    __builtin_memcpy(si, &uptime, 8);
    __builtin_memcpy(si + 32, &total, 8);   // totalram
    __builtin_memcpy(si + 40, &free, 8);    // freeram
    __builtin_memcpy(si + 80, &procs, 2);   // procs
    __builtin_memcpy(si + 104, &unit, 4);   // mem_unit
    return 0;
}

}  // namespace

void register_process_syscalls() {
    register_syscall(__NR_arch_prctl, sys_arch_prctl);
    register_syscall(__NR_set_robust_list, sys_zero);
    register_syscall(__NR_rseq, sys_enosys_quiet);
    register_syscall(__NR_prlimit64, sys_prlimit64);
    register_syscall(__NR_getpid, sys_one);
    register_syscall(__NR_getppid, sys_zero);
    register_syscall(__NR_getuid, sys_zero);
    register_syscall(__NR_geteuid, sys_zero);
    register_syscall(__NR_getgid, sys_zero);
    register_syscall(__NR_getegid, sys_zero);
    register_syscall(__NR_uname, sys_uname);
    register_syscall(__NR_rt_sigaction, sys_rt_sigaction);
    register_syscall(__NR_rt_sigprocmask, sys_rt_sigprocmask);
    register_syscall(__NR_sigaltstack, sys_zero);
    register_syscall(__NR_sched_getaffinity, sys_sched_getaffinity);
    register_syscall(__NR_sched_yield, sys_zero);
    register_syscall(__NR_getrandom, sys_getrandom);
    register_syscall(__NR_kill, sys_kill);
    register_syscall(__NR_tkill, sys_kill);
    register_syscall(__NR_tgkill, sys_kill);
    register_syscall(__NR_sysinfo, sys_sysinfo);
}

}  // namespace bf
