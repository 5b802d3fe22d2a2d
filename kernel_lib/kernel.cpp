// kernel_main: what happens between stage 2's jump and the program. Runs before glibc is
// initialized, so it uses kernel_lib's own console and formatter only.
#include "../boot/include/bootinfo.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/descriptors.h"
#include "arch/x86_64/panic.h"
#include "arch/x86_64/simd.h"
#include "block/storage.h"
#include "fs/files.h"
#include "syscall/errno.h"
#include "bareflow/kernel.h"
#include "console/console.h"
#include "debug/symbols.h"
#include "hw/discovery.h"
#include "hosted/hosted.h"
#include "mm/paging.h"
#include "mm/phys.h"
#include "mm/vmspace.h"
#include "smp/ap_boot.h"
#include "smp/smp.h"
#include "bareflow/pool.h"
#include "start/cmdline.h"
#include "start/program.h"
#include "syscall/syscall.h"
#include "time/tsc.h"

namespace bf {

namespace {

bool g_bare_metal;
bf_bootinfo g_boot;                 // a copy: low memory will be reused
bf_kernel_header g_header;
bf_e820_entry g_e820[BF_E820_MAX];

const char *e820_type(uint32_t t) {
    switch (t) {
    case 1: return "usable";
    case 2: return "reserved";
    case 3: return "ACPI reclaimable";
    case 4: return "ACPI NVS";
    case 5: return "bad";
    default: return "other";
    }
}

// "12.345" from a microsecond count, for the banner (the formatter has no %f).
const char *ms_str(char *buf, uint64_t us) {
    ksnprintf(buf, 24, "%lu.%03lu", (unsigned long)(us / 1000), (unsigned long)(us % 1000));
    return buf;
}

uint64_t print_memory() {
    uint64_t usable = 0;
    kdetailf("memory: %u E820 entries\n", g_boot.e820_count);
    for (uint32_t i = 0; i < g_boot.e820_count; i++) {
        const auto &e = g_e820[i];
        kdetailf("  %016lx-%016lx %s\n", (unsigned long)e.base,
                (unsigned long)(e.base + e.length - 1), e820_type(e.type));
        if (e.type == 1) usable += e.length;
    }
    kprintf("memory: %lu MiB usable\n", (unsigned long)(usable >> 20));
    return usable;
}

void print_boot_timing(uint64_t tsc_entry, uint64_t usable) {
    char a[24], b[24], c[24];
    uint64_t total = tsc_to_us(tsc_entry - g_boot.tsc_stage1);
    uint64_t s1 = tsc_to_us(g_boot.tsc_stage2 - g_boot.tsc_stage1);
    uint64_t load = tsc_to_us(g_boot.tsc_load_end - g_boot.tsc_load_start);
    const bool packed = g_boot.tsc_unpack_start != 0;
    // Packed: the read (packed bytes, their CRC) and the unpacking (LZ4 decode, the image CRC,
    // BSS, symbol table) split at tsc_unpack_start. The rate is for the bytes read from disk.
    uint64_t unpack = packed ? tsc_to_us(g_boot.tsc_load_end - g_boot.tsc_unpack_start) : 0;
    uint64_t read = load - unpack;
    uint64_t kib = g_boot.image_bytes / 1024;
    uint64_t kb_per_s = read ? g_boot.kernel_bytes * 1000 / read : 0;  // bytes/ms = kB/s
    char d[24];
    kdetailf("tsc: %lu kHz (%s)\n", (unsigned long)(tsc_hz() / 1000), tsc_source());
    kdetailf("boot: drive 0x%02x (%s), stage 1 -> kernel entry %s ms; stage 1 -> stage 2 %s ms; "
            "kernel %lu KiB loaded in %s ms (",
            g_boot.boot_drive, (g_boot.flags & BF_BI_EDD) ? "INT 13h extensions" : "CHS",
            ms_str(a, total), ms_str(b, s1), (unsigned long)kib, ms_str(c, load));
    if (packed)
        kdetailf("%lu KiB LZ4 read at ", (unsigned long)(g_boot.kernel_bytes / 1024));
    kdetailf("%lu.%02lu MB/s", (unsigned long)(kb_per_s / 1000), (unsigned long)(kb_per_s % 1000 / 10));
    if (packed) kdetailf(", unpacked in %s ms", ms_str(d, unpack));
    kdetailf(", %u retries)\n", g_boot.read_retries);
    krecordf("{\"record\":\"boot\",\"tsc_khz\":%lu,\"tsc_source\":\"%s\",\"stage1_to_kernel_us\":%lu,"
            "\"stage1_to_stage2_us\":%lu,\"kernel_load_us\":%lu,\"kernel_bytes\":%lu,"
            "\"load_kb_per_s\":%lu,\"packing\":\"%s\",\"image_bytes\":%lu,\"unpack_us\":%lu,"
            "\"read_retries\":%u,\"boot_drive\":%u,\"edd\":%s,"
            "\"e820_entries\":%u,\"usable_mib\":%lu}\n",
            (unsigned long)(tsc_hz() / 1000), tsc_source(), (unsigned long)total,
            (unsigned long)s1, (unsigned long)load, (unsigned long)g_boot.kernel_bytes,
            (unsigned long)kb_per_s, packed ? "lz4" : "none", (unsigned long)g_boot.image_bytes,
            (unsigned long)unpack, g_boot.read_retries, g_boot.boot_drive,
            (g_boot.flags & BF_BI_EDD) ? "true" : "false", g_boot.e820_count,
            (unsigned long)(usable >> 20));
}

bool cmdline_has(const char *word) { return cmdline::has_word(g_header.cmdline, word); }

}  // namespace

bool bare_metal() { return g_bare_metal; }

uint64_t us_since_power_on() {
    return g_bare_metal ? tsc_to_us(cpu::rdtsc() - g_boot.tsc_stage1) : 0;
}

void shutdown(int status) {
    if (!g_bare_metal) hosted::exit(status);
    // The FAT clean bit is set only when everything is on disk. Not from an application
    // processor (a panic in a pool task): the BSP may be inside the file system right now.
    if (smp::on_bsp()) files::shutdown();
    console_release();  // what waited for the end of a generation, then the last records
    records_flush();
    kprintf("BareFlow: exit status %d\n", status);
    cpu::outl(0xF4, uint32_t(status));  // isa-debug-exit: QEMU exits with (status << 1) | 1
    kprintf("System halted.\n");         // still here: a real PC
    cpu::halt_forever();
}

}  // namespace bf

using namespace bf;

extern "C" [[noreturn]] void kernel_main(const bf_bootinfo *bi) {
    uint64_t tsc_entry = cpu::rdtsc();
    g_bare_metal = true;
    serial::init();
    vga::init();
    cpu::descriptors_init();
    if (bi->magic != BF_BOOTINFO_MAGIC || bi->version != BF_BOOTINFO_VERSION)
        panic("boot info at %p has magic 0x%x version %u: stage 2 and kernel do not match",
              (const void *)bi, bi->magic, bi->version);
    cpu::copy_bytes(&g_boot, bi, sizeof g_boot);
    cpu::copy_bytes(&g_header, reinterpret_cast<const void *>(bi->header_addr), sizeof g_header);
    g_header.cmdline[BF_CMDLINE_MAX - 1] = 0;
    if (g_boot.e820_count > BF_E820_MAX) g_boot.e820_count = BF_E820_MAX;
    cpu::copy_bytes(g_e820, reinterpret_cast<const void *>(bi->e820_addr),
                    g_boot.e820_count * sizeof(bf_e820_entry));

    simd::init();
    kprintf("BareFlow kernel_lib (x86-64, bare metal), kernel_entry at %p\n",
            (const void *)g_header.entry);
    tsc_init();
    clock_init(tsc_entry);
    uint64_t usable = print_memory();
    hw_report(usable);
    kprintf("cmdline: \"%s\"\n", g_header.cmdline);

    uint64_t image_lo = g_header.load_addr;
    uint64_t symtab = BF_SYMTAB_ADDR(g_header.load_addr, g_header.mem_size);
    uint64_t image_hi = (symtab + g_header.symtab_size + 4095) & ~4095ull;
    symbols_init(symtab, g_header.symtab_size);
    phys::init(g_e820, g_boot.e820_count, image_lo, image_hi);
    paging::init(image_lo, image_hi);
    syscall_init();
    syscall_trace(cmdline_has("strace"));
    pool::use_processors(smp::processors_found, smp::wake, smp::idle_halt, smp::sync_tlb);
    if (cmdline_has("test=ap-timeout")) smp::test_withhold_sipi();
    const int online = smp::start_processors();
    // Each worker counts itself in pool::worker_main, a few instructions after the bring-up
    // counted it: wait for that (bounded), so cores_online() is right from the program's start.
    for (uint64_t t0 = cpu::rdtsc(); pool::cores_online() < online && tsc_to_us(cpu::rdtsc() - t0) < 100000;)
        asm volatile("pause");
    if (pool::cores_online() != online)
        kprintf("smp: %d of %d workers entered the pool\n", pool::cores_online() - 1, online - 1);
    hw_record(smp::processors_found(), online);  // the records keep their order: hw, then boot
    if (cmdline_has("test=vm-keep")) vm::boot_test_keep();
    if (cmdline_has("test=smp")) smp::boot_test("smp");
    if (cmdline_has("test=ap-fault")) smp::boot_test("fault");
    if (cmdline_has("test=ap-syscall")) smp::boot_test("call");
    if (cmdline_has("test=pool-stress")) smp::boot_test("pool-stress");
    print_boot_timing(tsc_entry, usable);
    const char *force = cmdline_has("disk=bios") ? "bios" : cmdline_has("disk=virtio") ? "virtio" : nullptr;
    storage::init(uint8_t(g_boot.boot_drive), g_boot.disk_signature, g_boot.part1_lba,
                  g_boot.part1_sectors, force);
    static const fs::BlockDev no_disk{};
    files::mount(storage::backend() == storage::Backend::kNone ? no_disk : storage::partition());
    if (cmdline_has("test=disk")) {  // raw reads through the chosen driver (tests/boot/disk.test)
        static uint8_t sector[512];
        int r = storage::partition().read(nullptr, 0, 1, sector);
        kprintf("test: partition 1 sector 0 via %s: %s, OEM \"%c%c%c%c%c%c%c%c\", signature %02x%02x\n",
                storage::backend_name(), r ? "error" : "read", sector[3], sector[4], sector[5],
                sector[6], sector[7], sector[8], sector[9], sector[10], sector[510], sector[511]);
        r = storage::partition().read(nullptr, g_boot.part1_sectors, 1, sector);
        kprintf("test: reading past the partition: %s\n", r == -kEIO ? "refused (EIO)" : "ALLOWED");
    }
    kprintf("kernel_lib: XCR0 0x%lx (%s), NX %s, %lu MiB free; starting the program\n",
            (unsigned long)simd::xcr0(), simd::xsave_enabled() ? "XSAVE" : "FXSAVE only",
            paging::nx_enabled() ? "on" : "off",
            (unsigned long)(phys::free_frames() * phys::kPage >> 20));

    if (cmdline_has("test=fault")) {  // the panic path, on purpose (tests/boot/panic.test)
        kprintf("test: writing to an unmapped address\n");
        *reinterpret_cast<volatile uint64_t *>(0x0000400000000000ull) = 1;
    }
    start_program(g_header.cmdline);
}
