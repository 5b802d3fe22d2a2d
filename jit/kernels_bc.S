// The LLVM bitcode of the tensor kernels (app/kernels), made at build time and embedded: the JIT's
// input. Built by the Makefile into build/jit/kernels.bc.
    .section .rodata
    .balign 16
    .globl bf_kernels_bc, bf_kernels_bc_end
bf_kernels_bc:
    .incbin "build/jit/kernels.bc"
bf_kernels_bc_end:
    .section .note.GNU-stack, "", @progbits
