// Entering and leaving a program thread on a lent core (thread.cpp). The worker's callee-saved
// registers stay on its own stack; only that stack pointer is kept (PerCpu::worker_context).
//
// thread_enter(save = rdi, rip = rsi, rsp = rdx, rflags = rcx): as the child of a clone() call
// returns from its `syscall` instruction: RAX 0, RSP the new stack, RIP after the syscall.
// Every other general register is zero (the parent's values are its own business).
    .section .text
    .globl thread_enter
    .type thread_enter, @function
thread_enter:
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    movq %rsp, (%rdi)
    movq %rdx, %rsp
    pushq %rcx                      // below the new stack's top: free until the thread runs
    popfq
    movq %rsi, %r11
    xorl %eax, %eax
    xorl %ebx, %ebx
    xorl %ecx, %ecx
    xorl %edx, %edx
    xorl %esi, %esi
    xorl %edi, %edi
    xorl %ebp, %ebp
    xorl %r8d, %r8d
    xorl %r9d, %r9d
    xorl %r10d, %r10d
    xorl %r12d, %r12d
    xorl %r13d, %r13d
    xorl %r14d, %r14d
    xorl %r15d, %r15d
    jmp *%r11
    .size thread_enter, . - thread_enter

// thread_leave(saved = rdi): back on the worker's stack, returning from its thread_enter. Called
// by the thread's exit system call, whose own stack frame is simply left behind.
    .globl thread_leave
    .type thread_leave, @function
thread_leave:
    movq %rdi, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret
    .size thread_leave, . - thread_leave

    .section .note.GNU-stack, "", @progbits
