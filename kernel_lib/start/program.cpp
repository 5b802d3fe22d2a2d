// Starts the program the way Linux starts a static executable: a fresh stack holding argc,
// argv, envp and the auxiliary vector, then a jump to glibc's own _start.
#include "program.h"

#include "cmdline.h"

#include "../arch/x86_64/cpu.h"
#include "../arch/x86_64/panic.h"
#include "../mm/vmspace.h"
#include "../../boot/include/bootinfo.h"
#include "bareflow/kernel.h"

#include <elf.h>

extern "C" const Elf64_Ehdr __ehdr_start;
extern "C" char _start[];

namespace bf {

namespace {

constexpr uint64_t kStackSize = 8ull << 20;  // as RLIMIT_STACK reports
constexpr int kMaxWords = 64;

uint64_t random64_rdtsc_mix(uint64_t x) {
    x ^= cpu::rdtsc();
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

}  // namespace

void start_program(const char *cmdline) {
    // The stack: 8 MiB, with an inaccessible guard page below it.
    int64_t base = vm::mmap(0, kStackSize + 4096, 3 /* RW */, 0x22 /* PRIVATE|ANON */, -1, 0);
    if (base < 0) panic("start: no memory for the program's 8 MiB stack");
    vm::mprotect(uint64_t(base), 4096, 0);
    char *sp = reinterpret_cast<char *>(base + int64_t(kStackSize) + 4096);

    auto push_str = [&](const char *s, size_t n) {
        sp -= n + 1;
        for (size_t i = 0; i < n; i++) sp[i] = s[i];
        sp[n] = 0;
        return sp;
    };
    // Command-line words (cmdline.h): key=value ones become the environment, the others
    // arguments (as Linux does for init).
    const char *argv[kMaxWords + 1], *envp[kMaxWords + 1];
    int argc = 0, envc = 0;
    argv[argc++] = push_str("bareflow", 8);
    char word[BF_CMDLINE_MAX];
    size_t n = 0;
    bool kv = false, open_quote = false;
    for (const char *p = cmdline; cmdline::next_word(&p, word, sizeof word, &n, &kv, &open_quote);) {
        if (open_quote) {  // it would swallow the rest of the line as one value: refused, named
            if (n > 40) word[40] = 0;  // kprintf has no precision
            kprintf("kernel command line: unterminated quote in '%s%s': that word is ignored\n", word,
                    n > 40 ? "..." : "");
            continue;
        }
        const char *copy = push_str(word, n);
        if (kv && envc < kMaxWords) envp[envc++] = copy;
        else if (!kv && argc < kMaxWords) argv[argc++] = copy;
    }
    const char *platform = push_str("x86_64", 6);
    const char *execfn = push_str("/bareflow", 9);
    sp = reinterpret_cast<char *>(uint64_t(sp) & ~15ull);
    sp -= 16;
    uint64_t r0 = random64_rdtsc_mix(0x243F6A8885A308D3ull), r1 = random64_rdtsc_mix(r0);
    __builtin_memcpy(sp, &r0, 8);  // AT_RANDOM: glibc takes its stack guard from these
    __builtin_memcpy(sp + 8, &r1, 8);
    const char *random = sp;

    uint64_t auxv[][2] = {
        {AT_PHDR, uint64_t(&__ehdr_start) + __ehdr_start.e_phoff},
        {AT_PHENT, sizeof(Elf64_Phdr)},
        {AT_PHNUM, __ehdr_start.e_phnum},
        {AT_PAGESZ, 4096},
        {AT_ENTRY, uint64_t(_start)},
        {AT_CLKTCK, 100},
        {AT_RANDOM, uint64_t(random)},
        {AT_HWCAP, cpu::cpuid(1).d},
        {AT_HWCAP2, 0},
        {AT_PLATFORM, uint64_t(platform)},
        {AT_EXECFN, uint64_t(execfn)},
        {AT_UID, 0}, {AT_EUID, 0}, {AT_GID, 0}, {AT_EGID, 0},
        {AT_SECURE, 0},
        {AT_NULL, 0},
    };
    constexpr int kAux = sizeof auxv / sizeof auxv[0];
    uint64_t words = 1 + uint64_t(argc) + 1 + uint64_t(envc) + 1 + 2 * kAux;
    uint64_t *s = reinterpret_cast<uint64_t *>(sp) - words;
    s = reinterpret_cast<uint64_t *>(uint64_t(s) & ~15ull);  // RSP 16-aligned at argc
    uint64_t *w = s;
    *w++ = uint64_t(argc);
    for (int i = 0; i < argc; i++) *w++ = uint64_t(argv[i]);
    *w++ = 0;
    for (int i = 0; i < envc; i++) *w++ = uint64_t(envp[i]);
    *w++ = 0;
    for (int i = 0; i < kAux; i++) {
        *w++ = auxv[i][0];
        *w++ = auxv[i][1];
    }
    // RDX = 0: no dynamic-linker finalizer for __libc_start_main.
    asm volatile("mov %0, %%rsp\n"
                 "xor %%edx, %%edx\n"
                 "xor %%ebp, %%ebp\n"
                 "jmp *%1\n" ::"r"(s), "r"(_start)
                 : "memory");
    __builtin_unreachable();
}

}  // namespace bf
