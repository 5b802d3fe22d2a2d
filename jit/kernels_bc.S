// The LLVM bitcode of the tensor kernels (app/kernels), made at build time and embedded: the JIT's
// input. One variant per vector class (base, avx2, avx512, avx512vnni): same source, different tile
// sizes and instructions.
    .section .rodata
    .balign 16
    .globl bf_kernels_bc_base, bf_kernels_bc_base_end
bf_kernels_bc_base:
    .incbin "build/jit/kernels-base.bc"
bf_kernels_bc_base_end:
    .balign 16
    .globl bf_kernels_bc_avx2, bf_kernels_bc_avx2_end
bf_kernels_bc_avx2:
    .incbin "build/jit/kernels-avx2.bc"
bf_kernels_bc_avx2_end:
    .balign 16
    .globl bf_kernels_bc_avx512, bf_kernels_bc_avx512_end
bf_kernels_bc_avx512:
    .incbin "build/jit/kernels-avx512.bc"
bf_kernels_bc_avx512_end:
    .balign 16
    .globl bf_kernels_bc_avx512vnni, bf_kernels_bc_avx512vnni_end
bf_kernels_bc_avx512vnni:
    .incbin "build/jit/kernels-avx512vnni.bc"
bf_kernels_bc_avx512vnni_end:
    .section .note.GNU-stack, "", @progbits
