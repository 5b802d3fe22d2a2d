// The assembled trampoline (bios_trampoline.asm, built by the Makefile), embedded in the kernel.
    .section .rodata
    .balign 16
    .globl bios_trampoline_blob, bios_trampoline_blob_end
bios_trampoline_blob:
    .incbin "build/kernel_lib/block/bios_trampoline.bin"
bios_trampoline_blob_end:
    .section .note.GNU-stack, "", @progbits
