#include "panic.h"

#include "../../console/console.h"
#include "../../debug/symbols.h"
#include "bareflow/kernel.h"
#include "../../mm/paging.h"
#include "cpu.h"
#include "../../smp/smp.h"

namespace bf {

namespace {

int in_panic;  // 1 + the CPU reporting a panic (atomic: two cores may panic at once)

bool paging_readable(uint64_t a, uint64_t n) {  // before paging::init, stage 2 maps 0..4 GiB
    for (uint64_t p = a & ~0xFFFull; p < a + n; p += 4096)
        if (paging::ready() ? !paging::accessible(p, false) : p >= (1ull << 32)) return false;
    return true;
}

void frame(int depth, uint64_t pc, bool is_return) {
    uint64_t off = 0;
    // A return address points after the call: look up the call itself.
    const char *name = symbolize(is_return ? pc - 1 : pc, &off);
    if (name) kprintf("  #%-2d 0x%016lx  %s+0x%lx\n", depth, (unsigned long)pc, name,
                      (unsigned long)(off + (is_return ? 1 : 0)));
    else kprintf("  #%-2d 0x%016lx  ??\n", depth, (unsigned long)pc);
}

// Frame-pointer walk, bounded and checked so a corrupt stack cannot fault the report itself.
void backtrace(uint64_t rip, uint64_t rbp) {
    kprintf("backtrace:\n");
    frame(0, rip, false);
    for (int depth = 1; depth < 32; depth++) {
        if (!rbp || (rbp & 7) || !paging_readable(rbp, 16)) break;
        const uint64_t *fp = reinterpret_cast<const uint64_t *>(rbp);
        uint64_t ret = fp[1];
        if (!ret) break;
        frame(depth, ret, true);
        if (fp[0] <= rbp) break;  // stacks grow down: the caller's frame is higher
        rbp = fp[0];
    }
}

}  // namespace

int ksnprintf(char *buf, size_t cap, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = kvsnprintf(buf, cap, fmt, ap);
    va_end(ap);
    return n;
}

void panic_with_frame(const char *what, const TrapFrame *f, bool names_cpu) {
    const int cpu_id = smp::processor_id();
    int first = 0;
    if (!__atomic_compare_exchange_n(&in_panic, &first, cpu_id + 1, false, __ATOMIC_ACQ_REL,
                                     __ATOMIC_ACQUIRE)) {
        // The same core again: its report failed. Another core: one report is enough (two
        // would interleave on the console), this one stops.
        if (first == cpu_id + 1) kprintf("\nPANIC while panicking: %s on CPU %d\nSystem halted.\n", what, cpu_id);
        cpu::halt_forever();
    }
    uint64_t cr2 = cpu::read_cr(2);
    console_release();  // output held for a generation comes first: it happened before
    if (names_cpu) kprintf("\nPANIC: %s\n", what);
    else kprintf("\nPANIC: %s on CPU %d\n", what, cpu_id);
    if (f) {
        kprintf("  RIP %016lx  CS %04lx  RFLAGS %016lx  CR2 %016lx\n", (unsigned long)f->rip,
                (unsigned long)f->cs, (unsigned long)f->rflags, (unsigned long)cr2);
        kprintf("  RAX %016lx  RBX %016lx  RCX %016lx  RDX %016lx\n", (unsigned long)f->rax,
                (unsigned long)f->rbx, (unsigned long)f->rcx, (unsigned long)f->rdx);
        kprintf("  RSI %016lx  RDI %016lx  RBP %016lx  RSP %016lx\n", (unsigned long)f->rsi,
                (unsigned long)f->rdi, (unsigned long)f->rbp, (unsigned long)f->rsp);
        kprintf("  R8  %016lx  R9  %016lx  R10 %016lx  R11 %016lx\n", (unsigned long)f->r8,
                (unsigned long)f->r9, (unsigned long)f->r10, (unsigned long)f->r11);
        kprintf("  R12 %016lx  R13 %016lx  R14 %016lx  R15 %016lx\n", (unsigned long)f->r12,
                (unsigned long)f->r13, (unsigned long)f->r14, (unsigned long)f->r15);
        kprintf("  CR0 %016lx  CR3 %016lx  CR4 %016lx\n", (unsigned long)cpu::read_cr(0),
                (unsigned long)cpu::read_cr(3), (unsigned long)cpu::read_cr(4));
        backtrace(f->rip, f->rbp);
        krecordf("{\"record\":\"panic\",\"vector\":%lu,\"error\":%lu,\"rip\":\"0x%lx\","
                "\"cr2\":\"0x%lx\",\"what\":\"%s\",\"cpu\":%d}\n",
                (unsigned long)f->vector, (unsigned long)f->error, (unsigned long)f->rip,
                (unsigned long)cr2, what, cpu_id);
    } else {
        uint64_t rbp;
        asm volatile("mov %%rbp, %0" : "=r"(rbp));
        backtrace(uint64_t(__builtin_return_address(0)), rbp);
        krecordf("{\"record\":\"panic\",\"what\":\"%s\",\"cpu\":%d}\n", what, cpu_id);
    }
    shutdown(kPanicStatus);
}

void panic(const char *fmt, ...) {
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    kvsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    panic_with_frame(buf, nullptr);
}

}  // namespace bf
