; BareFlow stage 2: loaded by the MBR at 0x8000 (LBA 1..64), entered in real mode with
; DL = BIOS drive. Checks the CPU, turns A20 on, reads the E820 map, loads and verifies the
; kernel, identity-maps the first 4 GiB and enters long mode straight from real mode, then
; jumps to kernel_entry with RDI = struct bf_bootinfo * (boot/include/bootinfo.h).
bits 16
%include "bootinfo.inc"
org BF_STAGE2_ADDR

stage2_start:
    jmp near main
    nop
    dd BF_STAGE2_MAGIC              ; offset 4: checked by the MBR

main:
    cli
    xor ax, ax
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov sp, BF_STAGE2_STACK
    sti
    cld
    push dx
    mov di, BF_BOOTINFO_ADDR        ; fresh boot info
    mov cx, BI_SIZE / 2
    rep stosw
    rdtsc
    mov [BF_BOOTINFO_ADDR + BI_TSC_STAGE2], eax
    mov [BF_BOOTINFO_ADDR + BI_TSC_STAGE2 + 4], edx
    mov eax, [BF_HANDOFF_ADDR]
    mov [BF_BOOTINFO_ADDR + BI_TSC_STAGE1], eax
    mov eax, [BF_HANDOFF_ADDR + 4]
    mov [BF_BOOTINFO_ADDR + BI_TSC_STAGE1 + 4], eax
    mov dword [BF_BOOTINFO_ADDR + BI_MAGIC], 0x49424642
    mov dword [BF_BOOTINFO_ADDR + BI_VERSION], 2
    mov dword [BF_BOOTINFO_ADDR + BI_HEADER_ADDR], BF_KHDR_COPY_ADDR
    call serial_init
    mov si, msg_hello
    call puts
    pop dx
    call disk_init
    mov si, msg_no_disk
    jc die
    movzx eax, byte [disk_drive]
    mov [BF_BOOTINFO_ADDR + BI_DRIVE], eax
    mov si, msg_drive
    call puts
    call puthex32
    mov si, msg_chs
    cmp byte [disk_edd], 0
    je .method
    or dword [BF_BOOTINFO_ADDR + BI_FLAGS], BI_FLAG_EDD
    mov si, msg_edd
.method:
    call puts
    call require_long_mode
    call enable_a20
    call read_e820
    mov si, msg_e820
    call puts
    mov eax, [BF_BOOTINFO_ADDR + BI_E820_COUNT]
    call putdec32
    mov si, msg_crlf
    call puts
    call crc_init
    call find_partitions
    call read_header
    call check_memory
    call load_kernel
    call build_page_tables
    jmp go_long

; build_page_tables: PML4 -> PDPT -> 4 page directories of 2 MiB pages = 0..4 GiB identity.
build_page_tables:
    call enter_unreal
    mov edi, BF_PAGETABLE_ADDR
    mov ecx, 6 * 4096
    xor al, al
    a32 rep stosb
    mov edi, BF_PAGETABLE_ADDR
    mov dword [edi], BF_PAGETABLE_ADDR + 0x1000 + 3
    add edi, 0x1000
    mov eax, BF_PAGETABLE_ADDR + 0x2000 + 3
    mov cx, 4
.pdpt:
    mov [edi], eax
    add eax, 0x1000
    add edi, 8
    loop .pdpt
    mov edi, BF_PAGETABLE_ADDR + 0x2000
    mov eax, 0x83                   ; present, writable, 2 MiB page
    xor edx, edx
    mov cx, 2048
.pd:
    mov [edi], eax
    mov [edi + 4], edx
    add eax, 0x200000
    adc edx, 0
    add edi, 8
    loop .pd
    ret

go_long:
    cli
    lidt [idt_null]                 ; the kernel installs its IDT first thing
    lgdt [gdt_desc]
    mov eax, cr4
    or eax, 1 << 5                  ; PAE
    mov cr4, eax
    mov eax, BF_PAGETABLE_ADDR
    mov cr3, eax
    mov ecx, 0xC0000080             ; EFER
    rdmsr
    or eax, 1 << 8                  ; LME
    test dword [BF_BOOTINFO_ADDR + BI_FLAGS], BI_FLAG_NXE
    jz .no_nxe
    or eax, 1 << 11                 ; NXE
.no_nxe:
    wrmsr
    mov eax, cr0
    or eax, 0x80000001              ; PG | PE: real mode straight to long mode
    mov cr0, eax
    jmp GDT_CODE64:long_entry

bits 64
long_entry:
    mov ax, GDT_DATA
    mov ds, ax
    mov es, ax
    mov ss, ax
    xor eax, eax
    mov fs, ax
    mov gs, ax
    mov rsp, BF_STAGE2_STACK
    rdtsc
    shl rdx, 32
    or rax, rdx
    mov [BF_BOOTINFO_ADDR + BI_TSC_JUMP], rax
    mov edi, BF_BOOTINFO_ADDR
    mov rax, [BF_KHDR_COPY_ADDR + KH_ENTRY]
    jmp rax
bits 16

%include "console.inc"
%include "platform.inc"
%include "bios_disk.inc"
%include "load.inc"
%include "lz4.inc"

align 8
gdt:
    dq 0
    dq 0x00AF9A000000FFFF           ; 0x08: 64-bit code
    dq 0x00CF92000000FFFF           ; 0x10: flat 4 GiB data
gdt_end:
GDT_CODE64 equ 0x08
GDT_DATA   equ 0x10
gdt_desc:
    dw gdt_end - gdt - 1
    dd gdt
idt_null:
    dw 0
    dd 0

msg_hello:   db "BareFlow stage2", 13, 10, 0
msg_no_disk: db "the boot drive answers neither INT 13h extensions nor CHS geometry", 0
msg_drive:   db "BareFlow stage2: boot drive ", 0
msg_edd:     db ", INT 13h extensions", 13, 10, 0
msg_chs:     db ", CHS only", 13, 10, 0
msg_e820:    db "BareFlow stage2: A20 on, E820 entries: ", 0
msg_crlf:    db 13, 10, 0

stage2_end:
%if stage2_end - stage2_start > BF_STAGE2_MAX_SECTORS * 512
%error "stage 2 is larger than its 64 sectors"
%endif
