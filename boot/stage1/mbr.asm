; BareFlow stage 1: the 512-byte MBR.
; Notes the TSC (boot timing starts here), picks the BIOS drive, loads stage 2 from the
; sectors after the MBR (INT 13h extensions, CHS fallback) and jumps to it with DL = drive.
; Stage 2 always sits at LBA 1..64 (mkimage enforces the size); mkimage writes the disk
; signature and the partition table.
bits 16
org 0x7C00
%define STAGE1
%include "bootinfo.inc"

start:
    jmp short main
    nop
    times 0x5A - ($ - $$) db 0      ; BPB-sized hole: some BIOSes write a BPB here. Not a real BPB,
                                    ; which would invite USB-FDD emulation.
main:
    cli
    xor ax, ax
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov sp, 0x7C00
    mov bp, dx                      ; DL = BIOS drive
    rdtsc
    mov [BF_HANDOFF_ADDR], eax
    mov [BF_HANDOFF_ADDR + 4], edx
    sti                             ; CS may be 07C0 or 0000: only relative jumps and DS-based
                                    ; data are used, so either works
    cld
    mov dx, bp
    call disk_init
    mov si, msg_disk
    jc fail
    mov bx, BF_STAGE2_ADDR
    mov di, 3                       ; tries
.retry:
    mov eax, 1
    mov cx, BF_STAGE2_MAX_SECTORS
    call disk_read
    jnc .loaded
    xor ah, ah                      ; reset the drive, try again
    mov dl, [disk_drive]
    int 0x13
    dec di
    jnz .retry
    mov si, msg_disk
    jmp fail
.loaded:
    mov si, msg_s2
    cmp dword [BF_STAGE2_ADDR + 4], BF_STAGE2_MAGIC
    jne fail
    mov dl, [disk_drive]
    jmp 0:BF_STAGE2_ADDR

fail:                               ; SI = reason
    push si
    mov si, msg_prefix
    call print
    pop si
    call print
.halt:
    cli
    hlt
    jmp .halt

print:
    lodsb
    test al, al
    jz .done
    mov ah, 0x0E
    xor bx, bx
    int 0x10
    jmp print
.done:
    ret

%include "bios_disk.inc"

msg_prefix: db "BareFlow: ", 0
msg_disk:   db "disk error", 0
msg_s2:     db "bad stage 2", 0

    times 0x1B8 - ($ - $$) db 0
disk_signature: dd 0                ; 0x1B8, patched by mkimage
    dw 0
partition_table: times 64 db 0      ; 0x1BE, written by mkimage
    dw 0xAA55
