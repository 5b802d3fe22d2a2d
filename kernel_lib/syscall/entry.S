// The `syscall` instruction, taken in ring 0 with the Linux x86-64 ABI: rax = number, rdi rsi rdx
// r10 r8 r9 = arguments, result in rax; every other register is preserved, SIMD state included.
// - Never touch the caller's stack: it may keep live data in the 128-byte red zone below RSP.
// - Save the whole extended state (XSAVE, or FXSAVE without it): handlers are C++ that may use
//   vector registers, and glibc/LLVM inline syscalls assume only rcx and r11 are clobbered.
// - Return without sysret (that would drop to ring 3): flags from r11 are restored on our own
//   stack, then RSP switches back and we jump to RCX.
// Every core has its own stack for this (PerCpu, through GS base: arch/x86_64/percpu.h); handlers
// never make system calls themselves, so one stack per core suffices.
    .section .text
    .globl syscall_entry
    .type syscall_entry, @function
syscall_entry:
    movq %rsp, %gs:24               // PerCpu::syscall_user_rsp
    movq %gs:16, %rsp               // PerCpu::syscall_stack_top
    pushq %gs:24                    // struct SyscallFrame, from the top down:
    pushq %rcx                      //   return address
    pushq %r11                      //   flags
    pushq %rdi                      //   a0
    pushq %rsi                      //   a1
    pushq %rdx                      //   a2
    pushq %r10                      //   a3
    pushq %r8                       //   a4
    pushq %r9                       //   a5
    pushq %rbp
    pushq %rax                      //   number; the result on the way out
    movq %rsp, %rbp
    subq syscall_xsave_size(%rip), %rsp
    andq $-64, %rsp
    movl $-1, %eax
    movl $-1, %edx
    cmpb $0, syscall_use_xsave(%rip)
    je 1f
    xsave64 (%rsp)
    jmp 2f
1:  fxsave64 (%rsp)
2:  movq %rbp, %rdi
    call syscall_dispatch
    movq %rax, (%rbp)
    movl $-1, %eax
    movl $-1, %edx
    cmpb $0, syscall_use_xsave(%rip)
    je 3f
    xrstor64 (%rsp)
    jmp 4f
3:  fxrstor64 (%rsp)
4:  movq %rbp, %rsp
    popq %rax
    popq %rbp
    popq %r9
    popq %r8
    popq %r10
    popq %rdx
    popq %rsi
    popq %rdi
    popq %r11
    popq %rcx
    pushq %r11
    popfq
    movq (%rsp), %rsp               // the caller's stack, untouched
    jmp *%rcx
    .size syscall_entry, . - syscall_entry

    .section .bss
    .balign 64
syscall_stack:                      // the BSP's (syscall_init)
    .skip 65536
    .globl syscall_bsp_stack_top
syscall_bsp_stack_top:

    .section .note.GNU-stack, "", @progbits
