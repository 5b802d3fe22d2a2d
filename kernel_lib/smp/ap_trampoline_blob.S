// The assembled AP trampoline (ap_trampoline.asm, built by the Makefile), embedded in the kernel.
    .section .rodata
    .balign 16
    .globl ap_trampoline_blob, ap_trampoline_blob_end
ap_trampoline_blob:
    .incbin "build/kernel_lib/smp/ap_trampoline.bin"
ap_trampoline_blob_end:
    .section .note.GNU-stack, "", @progbits
