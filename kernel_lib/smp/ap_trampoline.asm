; Application-processor start-up: real mode -> protected mode -> long mode -> the kernel.
; Assembled as a flat blob for TRAMP_BASE (ap_boot.cpp copies it there and checks the address in
; the blob's data block). A SIPI with vector TRAMP_BASE >> 12 starts each AP here with CS =
; TRAMP_BASE >> 4, IP = 0, in real mode, interrupts off.
;
; The page after the blob holds a copy of the kernel's PML4: CR3 can only be loaded with a 32-bit
; value before long mode is on, and the kernel's own PML4 may lie anywhere. The copy's entries
; point at the kernel's lower-level tables, so the AP sees the kernel's address space at once;
; in 64-bit code it switches to the real PML4 and jumps to ap_entry (ap_entry.S) in the kernel.
; The blob's page is made executable in the kernel's tables during bring-up only.
bits 16
TRAMP_BASE  equ 0x30000
PML4_COPY   equ TRAMP_BASE + 0x1000

SEL_CODE64  equ 0x08
SEL_DATA    equ 0x10
SEL_CODE32  equ 0x18

org 0
start:
    cli
    cld
    mov ax, cs
    mov ds, ax
    o32 lgdt [gdt_ptr]              ; 32-bit base: linear address of gdt
    mov eax, cr0
    or eax, 1                       ; PE
    mov cr0, eax
    jmp dword SEL_CODE32:(TRAMP_BASE + pm32)

bits 32
pm32:
    mov ax, SEL_DATA
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov eax, (1 << 5)               ; CR4.PAE (the rest comes from the BSP's values in C++)
    mov cr4, eax
    mov eax, PML4_COPY
    mov cr3, eax
    mov ecx, 0xC0000080             ; EFER: LME, and NXE/SCE as the BSP has them (the kernel's
    mov eax, [TRAMP_BASE + d_efer]  ; tables carry NX bits: without NXE they are reserved bits)
    xor edx, edx
    wrmsr
    mov eax, 0x80000011             ; PG | ET | PE: long mode (compatibility) now on
    mov cr0, eax
    jmp SEL_CODE64:(TRAMP_BASE + lm64)

bits 64
lm64:
    mov ax, SEL_DATA
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov rax, [TRAMP_BASE + d_cr3]   ; the kernel's PML4, any 64-bit address
    mov cr3, rax
    mov rax, [TRAMP_BASE + d_entry]
    jmp rax

align 16
gdt:
    dq 0
    dq 0x00AF9A000000FFFF           ; 0x08: 64-bit code
    dq 0x00CF92000000FFFF           ; 0x10: data
    dq 0x00CF9A000000FFFF           ; 0x18: 32-bit code
gdt_end:
gdt_ptr:
    dw gdt_end - gdt - 1
    dd TRAMP_BASE + gdt

; Filled in by ap_boot.cpp (struct TrampolineData) before the page is made read-execute.
align 16
data:
d_magic:    dq 0x4150544F4F425346    ; "FSBOOTPA": ap_boot.cpp finds the block by it
d_base:     dq TRAMP_BASE
d_cr3:      dq 0
d_entry:    dq 0
d_efer:     dq 0

%if $ - $$ > 0x1000
%error "AP trampoline larger than its page"
%endif
