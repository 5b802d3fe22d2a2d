// kernel_entry: stage 2 jumps here in long mode, interrupts off, RDI = struct bf_bootinfo *.
// SSE must be on before the first compiled C++ instruction (the compiler uses XMM registers).
    .section .text
    .globl kernel_entry
    .type kernel_entry, @function
kernel_entry:
    cli
    cld
    mov %rdi, %r12
    mov %cr0, %rax
    and $~(1 << 2), %rax            // EM off: no x87 emulation
    or $(1 << 1), %rax              // MP on
    mov %rax, %cr0
    mov %cr4, %rax
    or $((1 << 9) | (1 << 10)), %rax  // OSFXSR, OSXMMEXCPT
    mov %rax, %cr4
    lea boot_stack_top(%rip), %rsp
    xor %ebp, %ebp                  // ends backtraces
    mov %r12, %rdi
    call kernel_main
1:  cli
    hlt
    jmp 1b
    .size kernel_entry, . - kernel_entry

    .section .bss
    .balign 16
boot_stack:
    .skip 65536
boot_stack_top:

    .section .note.GNU-stack, "", @progbits
