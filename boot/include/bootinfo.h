// The contract between stage 2 (boot/stage2, NASM) and kernel_lib: the low-memory map stage 2
// uses, the kernel partition header, and the boot-info block handed to kernel_entry in RDI.
// boot/include/bootinfo.inc mirrors these numbers for NASM; the static_asserts below and in
// kernel_lib keep the two from drifting (a change here must be made there too).
#pragma once
#include <stdint.h>

// ---- Low memory used by stage 1/2 (all below 1 MiB; the BIOS areas are never touched) ----
#define BF_HANDOFF_ADDR    0x0500u   // stage 1 -> stage 2: u64 TSC at stage-1 start
#define BF_BOOTINFO_ADDR   0x1000u   // struct bf_bootinfo (+ cmdline copy)
#define BF_E820_ADDR       0x2000u   // struct bf_e820_entry[BF_E820_MAX]
#define BF_E820_MAX        320u
#define BF_STAGE2_STACK    0x7000u   // stage 2's stack top (a page apart from the MBR's code)
#define BF_STAGE2_ADDR     0x8000u   // stage 2 image, at most BF_STAGE2_MAX_SECTORS
#define BF_STAGE2_MAX_SECTORS 64u
#define BF_PAGETABLE_ADDR  0x10000u  // PML4, PDPT, 4 x PD: identity map of the first 4 GiB
#define BF_BOUNCE_ADDR     0x20000u  // 64 KiB aligned: a <=127-sector read never crosses 64 KiB

// ---- Kernel partition (MBR type 0xDA): sector 0 is this header, the load image follows ----
#define BF_KERNEL_PART_TYPE 0xDAu
#define BF_KHDR_MAGIC "BFKERNEL"
#define BF_KHDR_VERSION 2u      // 2: flags/packed_size/packed_crc (LZ4-compressed load image)
#define BF_CMDLINE_MAX 256u

struct bf_kernel_header {
    char     magic[8];      // "BFKERNEL"
    uint32_t version;       // BF_KHDR_VERSION
    uint32_t header_crc;    // CRC-32 of these 512 bytes with this field zero
    uint64_t load_addr;     // physical (= virtual) address of the first byte of the load image
    uint64_t file_size;     // bytes of the load image (after decompression when packed)
    uint64_t mem_size;      // bytes the image occupies in memory (file_size + zeroed BSS)
    uint64_t entry;         // kernel_entry (64-bit, RDI = struct bf_bootinfo *)
    uint32_t image_crc;     // CRC-32 (IEEE 802.3) of the load image followed by the symbol table
                            // (the decompressed image when packed)
    uint32_t flags;         // BF_KHDR_LZ4 or 0; stage 2 refuses any other bit
    uint64_t symtab_size;   // bytes of symbol table stored after the load image (sector-aligned
                            // on disk) and loaded at BF_SYMTAB_ADDR(load_addr, mem_size)
    uint64_t packed_size;   // BF_KHDR_LZ4: bytes of the LZ4 block stored after this header (in
                            // place of the load image; it decodes to exactly file_size bytes).
                            // Stage 2 reads it to BF_PACKED_ADDR(...), above everything else. 0
                            // when not packed.
    uint32_t packed_crc;    // BF_KHDR_LZ4: CRC-32 of those packed_size bytes, checked first
    uint32_t reserved0;
    char     cmdline[BF_CMDLINE_MAX];  // NUL-terminated kernel command line
    uint8_t  reserved[512 - 80 - BF_CMDLINE_MAX];
};

#define BF_KHDR_LZ4 1u  // the load image is stored as one LZ4 block (image/lz4_block.h)

// Where stage 2 puts the symbol table: the first page after the kernel's BSS.
#define BF_SYMTAB_ADDR(load, mem) (((load) + (mem) + 4095) & ~(uint64_t)4095)
// Where stage 2 reads a packed image to before decoding it to load_addr: the first page after
// the symbol table, so the LZ4 source never overlaps the image, its BSS or the symbol table.
// The kernel treats it as free memory once it runs.
#define BF_PACKED_ADDR(load, mem, symtab) ((BF_SYMTAB_ADDR(load, mem) + (symtab) + 4095) & ~(uint64_t)4095)

// Symbol table (for panic backtraces): header, entries sorted by address, NUL-terminated names.
#define BF_SYMTAB_MAGIC "BFSYMTAB"
struct bf_symtab_header { char magic[8]; uint32_t count; uint32_t strings_size; };
struct bf_symtab_entry { uint64_t addr; uint32_t size; uint32_t name; };

// ---- Boot info: built by stage 2, read by kernel_lib ----
#define BF_BOOTINFO_MAGIC 0x49424642u  // "BFBI"
#define BF_BOOTINFO_VERSION 2u

struct bf_e820_entry {
    uint64_t base;
    uint64_t length;
    uint32_t type;          // 1 usable, 2 reserved, 3 ACPI reclaimable, 4 ACPI NVS, 5 bad
    uint32_t ext_attr;
};

struct bf_bootinfo {
    uint32_t magic;             // BF_BOOTINFO_MAGIC
    uint32_t version;           // 2 (1 had no tsc_unpack_start/image_bytes)
    uint64_t tsc_stage1;        // rdtsc at the first instructions of the MBR
    uint64_t tsc_stage2;        // rdtsc at stage-2 entry
    uint64_t tsc_load_start;    // rdtsc before the kernel's first sector is read
    uint64_t tsc_load_end;      // rdtsc after the last sector is copied and checked
    uint64_t tsc_jump;          // rdtsc just before the jump to kernel_entry
    uint64_t kernel_bytes;      // bytes read from disk for the load image (packed when LZ4)
    uint32_t boot_drive;        // BIOS drive number (DL) used
    uint32_t flags;             // BF_BI_*
    uint32_t part1_lba, part1_sectors;   // FAT16 partition
    uint32_t part2_lba, part2_sectors;   // kernel partition
    uint32_t e820_count;
    uint32_t disk_signature;    // MBR offset 0x1B8
    uint64_t e820_addr;         // -> struct bf_e820_entry[e820_count]
    uint64_t header_addr;       // -> copy of struct bf_kernel_header (cmdline inside)
    uint32_t read_retries;      // INT 13h errors recovered from while loading
    uint32_t chunk_sectors;     // final sectors-per-call used for the kernel load
    // version 2:
    uint64_t tsc_unpack_start;  // rdtsc after the packed bytes were read and their CRC checked,
                                // before LZ4 decoding (0: the image was not packed)
    uint64_t image_bytes;       // bytes of load image in memory (file_size; = kernel_bytes when
                                // not packed)
};

#define BF_BI_EDD       1u   // INT 13h extensions were used (else CHS)
#define BF_BI_NXE       2u   // EFER.NXE was set by stage 2
#define BF_BI_PAGE1G    4u   // CPU supports 1 GiB pages

#define BF_KHDR_COPY_ADDR (BF_BOOTINFO_ADDR + 0x200u)

#ifdef __cplusplus
static_assert(sizeof(bf_kernel_header) == 512, "kernel header is one sector");
static_assert(sizeof(bf_e820_entry) == 24, "E820 entry is 24 bytes");
static_assert(__builtin_offsetof(bf_kernel_header, cmdline) == 80, "bootinfo.inc KH_CMDLINE");
static_assert(__builtin_offsetof(bf_bootinfo, e820_addr) == 88, "bootinfo.inc BI_E820_ADDR");
static_assert(__builtin_offsetof(bf_bootinfo, chunk_sectors) == 108, "bootinfo.inc BI_CHUNK");
static_assert(__builtin_offsetof(bf_bootinfo, image_bytes) == 120, "bootinfo.inc BI_IMAGE_BYTES");
static_assert(sizeof(bf_bootinfo) == 128, "bootinfo.inc BI_SIZE");
static_assert(__builtin_offsetof(bf_kernel_header, flags) == 52, "bootinfo.inc KH_FLAGS");
static_assert(__builtin_offsetof(bf_kernel_header, packed_size) == 64, "bootinfo.inc KH_PACKED_SIZE");
static_assert(__builtin_offsetof(bf_kernel_header, packed_crc) == 72, "bootinfo.inc KH_PACKED_CRC");
#endif
