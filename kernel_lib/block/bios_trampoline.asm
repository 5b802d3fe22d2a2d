; BIOS call trampoline: long mode -> real mode -> INT 13h -> long mode.
; Assembled as a flat blob for address TRAMP_BASE and copied there by bios_disk.cpp. Page 0 of
; the blob is code (mapped read-execute), page 1 is data (read-write, no-execute).
; The caller fills the request fields, then `call TRAMP_BASE` from 64-bit code with interrupts
; off; rbx, rbp, r12-r15, RFLAGS, GDTR, IDTR, CR3, FS/GS base are preserved.
bits 64
TRAMP_BASE  equ 0x8000
DATA        equ TRAMP_BASE + 0x1000
REAL_STACK  equ 0x7C00

; data page layout (bios_disk.cpp mirrors it)
P_AX        equ DATA + 0x00     ; in: AX (AH = function); out: AX
P_BX        equ DATA + 0x02     ; in/out
P_CX        equ DATA + 0x04     ; in/out
P_DX        equ DATA + 0x06     ; in: DL = drive; out
P_SI        equ DATA + 0x08     ; in: offset of the disk address packet (segment 0)
P_FLAGS     equ DATA + 0x0A     ; out: FLAGS after the call (CF = error)
P_DAP       equ DATA + 0x10     ; 16-byte disk address packet
SAVED_RSP   equ DATA + 0x40
SAVED_CR3   equ DATA + 0x48
SAVED_FS    equ DATA + 0x50
SAVED_GS    equ DATA + 0x58
SAVED_GDT   equ DATA + 0x60     ; 10 bytes
SAVED_IDT   equ DATA + 0x70     ; 10 bytes
SAVED_EFER  equ DATA + 0x80
GDT         equ DATA + 0x100
GDT_PTR     equ DATA + 0x140
REAL_IDT    equ DATA + 0x150

SEL_CODE64  equ 0x08
SEL_DATA    equ 0x10
SEL_CODE32  equ 0x18
SEL_CODE16  equ 0x20
SEL_DATA16  equ 0x28

org TRAMP_BASE
entry64:
    pushfq
    push rbx
    push rbp
    push r12
    push r13
    push r14
    push r15
    cli
    mov [SAVED_RSP], rsp
    mov rax, cr3
    mov [SAVED_CR3], rax
    sgdt [SAVED_GDT]
    sidt [SAVED_IDT]
    mov ecx, 0xC0000100
    rdmsr
    mov [SAVED_FS], eax
    mov [SAVED_FS + 4], edx
    mov ecx, 0xC0000101
    rdmsr
    mov [SAVED_GS], eax
    mov [SAVED_GS + 4], edx
    mov ecx, 0xC0000080
    rdmsr
    mov [SAVED_EFER], eax
    mov [SAVED_EFER + 4], edx
    ; our own GDT (code64, data, code32, code16, data16)
    mov rax, 0x00AF9A000000FFFF
    mov [GDT + 0x08], rax
    mov rax, 0x00CF92000000FFFF
    mov [GDT + 0x10], rax
    mov rax, 0x00CF9A000000FFFF
    mov [GDT + 0x18], rax
    mov rax, 0x00009A000000FFFF
    mov [GDT + 0x20], rax
    mov rax, 0x000092000000FFFF
    mov [GDT + 0x28], rax
    mov qword [GDT], 0
    mov word [GDT_PTR], 0x2F
    mov dword [GDT_PTR + 2], GDT
    mov dword [GDT_PTR + 6], 0
    mov word [REAL_IDT], 0x3FF
    mov dword [REAL_IDT + 2], 0
    lgdt [GDT_PTR]
    push SEL_CODE32                 ; to compatibility mode
    push compat32
    retfq

bits 32
compat32:
    mov ax, SEL_DATA
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov esp, REAL_STACK
    mov eax, cr0                    ; paging off: now plain protected mode
    and eax, 0x7FFFFFFF
    mov cr0, eax
    mov ecx, 0xC0000080             ; long mode off
    rdmsr
    and eax, ~(1 << 8)
    wrmsr
    jmp SEL_CODE16:prot16

bits 16
prot16:
    mov ax, SEL_DATA16              ; 64 KiB real-mode-like segment limits
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov fs, ax
    mov gs, ax
    mov eax, cr0
    and eax, ~1
    mov cr0, eax
    jmp 0:real16

real16:
    xor ax, ax
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov fs, ax
    mov gs, ax
    mov sp, REAL_STACK
    lidt [REAL_IDT]
    mov ax, [P_AX]
    mov bx, [P_BX]
    mov cx, [P_CX]
    mov dx, [P_DX]
    mov si, [P_SI]
    sti                             ; the BIOS may need its timer and disk interrupts
    int 0x13
    cli
    mov [P_AX], ax
    mov [P_BX], bx
    mov [P_CX], cx
    mov [P_DX], dx
    pushf
    pop word [P_FLAGS]
    ; back up: protected mode, then long mode
    lgdt [GDT_PTR]
    mov eax, cr0
    or eax, 1
    mov cr0, eax
    jmp dword SEL_CODE32:back32

bits 32
back32:
    mov ax, SEL_DATA
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov eax, [SAVED_CR3]            ; the kernel keeps its PML4 below 4 GiB for this
    mov cr3, eax
    mov ecx, 0xC0000080
    mov eax, [SAVED_EFER]
    and eax, ~(1 << 10)             ; LMA is the CPU's to set
    mov edx, [SAVED_EFER + 4]
    wrmsr
    mov eax, cr0
    or eax, 0x80000000
    mov cr0, eax
    jmp SEL_CODE64:back64

bits 64
back64:
    mov ax, SEL_DATA
    mov ds, ax
    mov es, ax
    mov ss, ax
    lgdt [SAVED_GDT]
    lidt [SAVED_IDT]
    mov rsp, [SAVED_RSP]
    push SEL_CODE64                 ; reload CS from the kernel's own GDT
    lea rax, [rel .cs]
    push rax
    retfq
.cs:
    mov ax, SEL_DATA
    mov ds, ax
    mov es, ax
    mov ss, ax
    xor eax, eax
    mov fs, ax
    mov gs, ax
    mov ecx, 0xC0000100             ; FS/GS base: glibc's TLS lives behind FS
    mov eax, [SAVED_FS]
    mov edx, [SAVED_FS + 4]
    wrmsr
    mov ecx, 0xC0000101
    mov eax, [SAVED_GS]
    mov edx, [SAVED_GS + 4]
    wrmsr
    pop r15
    pop r14
    pop r13
    pop r12
    pop rbp
    pop rbx
    popfq
    ret

%if $ - $$ > 0x1000
%error "trampoline code must fit in its page"
%endif
    times 0x1000 - ($ - $$) db 0
    times 0x1000 db 0               ; the data page
