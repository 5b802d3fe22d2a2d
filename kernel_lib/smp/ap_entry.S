// 64-bit entry of an application processor, reached from the real-mode trampoline
// (ap_trampoline.asm) on the kernel's page tables with interrupts off and no stack yet.
// - Take a ticket (lock xadd): it picks this AP's stack and tables, set up by ap_boot.cpp. More
//   APs than prepared stacks (firmware listing fewer than exist) park here.
// - SSE on before the first compiled C++ instruction, as kernel_entry does; ap_main then sets
//   the BSP's full CR0/CR4, descriptors, XCR0 and MSRs.
    .section .text
    .globl ap_entry
    .type ap_entry, @function
ap_entry:
    cli
    cld
    movl $1, %eax
    lock xaddl %eax, ap_ticket(%rip)
    cmpl ap_stack_count(%rip), %eax
    jae 2f
    movl %eax, %edi                 // ap_main(ticket)
    movq ap_stack_tops(,%rdi,8), %rsp
    mov %cr0, %rax
    and $~(1 << 2), %rax            // EM off
    or $(1 << 1), %rax              // MP on
    mov %rax, %cr0
    mov %cr4, %rax
    or $((1 << 9) | (1 << 10)), %rax  // OSFXSR, OSXMMEXCPT
    mov %rax, %cr4
    xor %ebp, %ebp                  // ends backtraces
    call ap_main
2:  cli
    hlt
    jmp 2b
    .size ap_entry, . - ap_entry

    .section .note.GNU-stack, "", @progbits
