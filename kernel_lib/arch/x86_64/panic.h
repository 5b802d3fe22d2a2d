// Fatal errors. The report goes to the console (serial + VGA), with one JSON record, and the
// machine stops: QEMU exits with kPanicStatus through isa-debug-exit, a real PC halts.
#pragma once
#include <stddef.h>
#include <stdint.h>

namespace bf {

constexpr int kPanicStatus = 70;

struct TrapFrame {  // as pushed by isr.S, lowest address first
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8, rbp, rdi, rsi, rdx, rcx, rbx, rax;
    uint64_t vector, error;
    uint64_t rip, cs, rflags, rsp, ss;  // pushed by the CPU
};

// The first line is "PANIC: what on CPU n" (the local APIC ID), unless what names the CPU itself.
[[noreturn]] void panic_with_frame(const char *what, const TrapFrame *f, bool names_cpu = false);
[[noreturn]] void panic(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int ksnprintf(char *buf, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

}  // namespace bf
