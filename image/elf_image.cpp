#include "elf_image.h"

#include "../boot/include/bootinfo.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <cxxabi.h>
#include <elf.h>

namespace {

bool in_file(const std::vector<uint8_t> &f, uint64_t off, uint64_t len) {
    return off <= f.size() && len <= f.size() - off;
}

// Calls fn(symbol, name) for every named symbol in .symtab; false if the tables are malformed.
template <typename Fn>
bool each_symbol(const std::vector<uint8_t> &f, const Elf64_Ehdr &eh, Fn fn) {
    if (eh.e_shentsize != sizeof(Elf64_Shdr) ||
        !in_file(f, eh.e_shoff, uint64_t(eh.e_shnum) * sizeof(Elf64_Shdr)))
        return false;
    for (unsigned i = 0; i < eh.e_shnum; i++) {
        Elf64_Shdr sh;
        std::memcpy(&sh, f.data() + eh.e_shoff + i * sizeof sh, sizeof sh);
        if (sh.sh_type != SHT_SYMTAB || sh.sh_link >= eh.e_shnum) continue;
        Elf64_Shdr str;
        std::memcpy(&str, f.data() + eh.e_shoff + sh.sh_link * sizeof str, sizeof str);
        if (!in_file(f, sh.sh_offset, sh.sh_size) || !in_file(f, str.sh_offset, str.sh_size))
            return false;
        const char *strs = reinterpret_cast<const char *>(f.data() + str.sh_offset);
        for (uint64_t off = 0; off + sizeof(Elf64_Sym) <= sh.sh_size; off += sizeof(Elf64_Sym)) {
            Elf64_Sym s;
            std::memcpy(&s, f.data() + sh.sh_offset + off, sizeof s);
            if (s.st_name >= str.sh_size || s.st_shndx == SHN_UNDEF) continue;
            if (!std::memchr(strs + s.st_name, 0, str.sh_size - s.st_name)) continue;
            fn(s, strs + s.st_name);
        }
    }
    return true;
}

// The kernel_entry symbol from .symtab (the ELF entry point is glibc's _start, for hosted runs).
bool find_symbol(const std::vector<uint8_t> &f, const Elf64_Ehdr &eh, const char *name,
                 uint64_t &value) {
    bool found = false;
    each_symbol(f, eh, [&](const Elf64_Sym &s, const char *n) {
        if (!found && std::strcmp(n, name) == 0) {
            value = s.st_value;
            found = true;
        }
    });
    return found;
}

}  // namespace

bool load_elf_image(const std::vector<uint8_t> &f, ElfImage &out, std::string &err) {
    Elf64_Ehdr eh;
    if (f.size() < sizeof eh || std::memcmp(f.data(), ELFMAG, SELFMAG) != 0) {
        err = "not an ELF file";
        return false;
    }
    std::memcpy(&eh, f.data(), sizeof eh);
    if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB ||
        eh.e_machine != EM_X86_64) {
        err = "not a 64-bit little-endian x86-64 ELF";
        return false;
    }
    if (eh.e_type == ET_DYN) {
        err = "position-independent ELF (ET_DYN); the kernel must be linked -static -no-pie";
        return false;
    }
    if (eh.e_type != ET_EXEC) {
        err = "not an executable ELF (e_type " + std::to_string(eh.e_type) + ")";
        return false;
    }
    if (eh.e_phentsize != sizeof(Elf64_Phdr) ||
        !in_file(f, eh.e_phoff, uint64_t(eh.e_phnum) * sizeof(Elf64_Phdr))) {
        err = "program headers lie outside the file";
        return false;
    }
    std::vector<Elf64_Phdr> loads;
    for (unsigned i = 0; i < eh.e_phnum; i++) {
        Elf64_Phdr ph;
        std::memcpy(&ph, f.data() + eh.e_phoff + i * sizeof ph, sizeof ph);
        if (ph.p_type == PT_INTERP) {
            err = "dynamically linked ELF (has PT_INTERP); link it -static";
            return false;
        }
        if (ph.p_type != PT_LOAD || ph.p_memsz == 0) continue;
        if (ph.p_filesz > ph.p_memsz || !in_file(f, ph.p_offset, ph.p_filesz) ||
            ph.p_vaddr + ph.p_memsz < ph.p_vaddr) {
            err = "a PT_LOAD segment is malformed";
            return false;
        }
        loads.push_back(ph);
    }
    if (loads.empty()) {
        err = "no PT_LOAD segments";
        return false;
    }
    std::sort(loads.begin(), loads.end(),
              [](const Elf64_Phdr &a, const Elf64_Phdr &b) { return a.p_vaddr < b.p_vaddr; });
    for (size_t i = 1; i < loads.size(); i++)
        if (loads[i].p_vaddr < loads[i - 1].p_vaddr + loads[i - 1].p_memsz) {
            err = "PT_LOAD segments overlap";
            return false;
        }
    out.load_addr = loads.front().p_vaddr;
    const Elf64_Phdr &last = loads.back();
    out.mem_size = last.p_vaddr + last.p_memsz - out.load_addr;
    uint64_t file_end = 0;
    for (const auto &ph : loads)
        if (ph.p_filesz) file_end = std::max(file_end, ph.p_vaddr + ph.p_filesz - out.load_addr);
    if (out.mem_size > (1ull << 32)) {
        err = "the image spans more than 4 GiB";
        return false;
    }
    out.image.assign(file_end, 0);
    for (const auto &ph : loads)
        if (ph.p_filesz)
            std::memcpy(out.image.data() + (ph.p_vaddr - out.load_addr), f.data() + ph.p_offset,
                        ph.p_filesz);
    if (!find_symbol(f, eh, "kernel_entry", out.entry)) {
        err = "no kernel_entry symbol (not a BareFlow kernel, or stripped)";
        return false;
    }
    if (out.entry < out.load_addr || out.entry >= out.load_addr + out.mem_size) {
        err = "kernel_entry lies outside the loaded segments";
        return false;
    }
    out.functions.clear();
    each_symbol(f, eh, [&](const Elf64_Sym &s, const char *n) {
        if (ELF64_ST_TYPE(s.st_info) != STT_FUNC || !*n) return;
        if (s.st_value < out.load_addr || s.st_value >= out.load_addr + out.mem_size) return;
        out.functions.push_back({s.st_value, s.st_size, n});
    });
    std::sort(out.functions.begin(), out.functions.end(),
              [](const auto &a, const auto &b) { return a.addr < b.addr; });
    out.functions.erase(std::unique(out.functions.begin(), out.functions.end(),
                                    [](const auto &a, const auto &b) { return a.addr == b.addr; }),
                        out.functions.end());
    return true;
}

std::vector<uint8_t> build_symtab(const ElfImage &k, size_t max_name) {
    std::vector<bf_symtab_entry> entries;
    std::string strings;
    // LLVM's ~45k functions would make the table ~5 MB (and every boot slower): each contiguous
    // run of them becomes one "[LLVM]" entry covering its addresses.
    auto is_llvm = [](const std::string &m) { return m.find("llvm") != std::string::npos; };
    uint64_t run_lo = 0, run_hi = 0;
    auto flush_run = [&] {
        if (run_hi <= run_lo) return;
        entries.push_back({run_lo, uint32_t(std::min<uint64_t>(run_hi - run_lo, UINT32_MAX)),
                           uint32_t(strings.size())});
        strings += "[LLVM]";
        strings.push_back('\0');
        run_lo = run_hi = 0;
    };
    for (const auto &fn : k.functions) {
        if (is_llvm(fn.name)) {
            if (run_hi <= run_lo) run_lo = fn.addr;
            run_hi = std::max(run_hi, fn.addr + std::max<uint64_t>(fn.size, 1));
            continue;
        }
        flush_run();
        int status = 0;
        char *d = abi::__cxa_demangle(fn.name.c_str(), nullptr, nullptr, &status);
        std::string name = (status == 0 && d) ? d : fn.name;
        std::free(d);
        if (name.size() > max_name) name = name.substr(0, max_name - 3) + "...";
        entries.push_back({fn.addr, uint32_t(std::min<uint64_t>(fn.size, UINT32_MAX)),
                           uint32_t(strings.size())});
        strings += name;
        strings.push_back('\0');
    }
    flush_run();
    bf_symtab_header h{};
    std::memcpy(h.magic, BF_SYMTAB_MAGIC, 8);
    h.count = uint32_t(entries.size());
    h.strings_size = uint32_t(strings.size());
    std::vector<uint8_t> out(sizeof h + entries.size() * sizeof(bf_symtab_entry) + strings.size());
    std::memcpy(out.data(), &h, sizeof h);
    if (!entries.empty())
        std::memcpy(out.data() + sizeof h, entries.data(), entries.size() * sizeof(bf_symtab_entry));
    std::memcpy(out.data() + sizeof h + entries.size() * sizeof(bf_symtab_entry), strings.data(),
                strings.size());
    return out;
}
