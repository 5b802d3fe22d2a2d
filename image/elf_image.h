// Turns a static x86-64 ELF executable into the flat load image stage 2 copies to memory.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

struct ElfImage {
    uint64_t load_addr = 0;      // lowest PT_LOAD address
    uint64_t mem_size = 0;       // up to the end of the highest PT_LOAD (BSS included)
    uint64_t entry = 0;          // address of the kernel_entry symbol
    std::vector<uint8_t> image;  // file bytes from load_addr on; gaps and inner BSS are zeros
    struct Symbol { uint64_t addr, size; std::string name; };
    std::vector<Symbol> functions;  // FUNC symbols inside the image, sorted by address
};

// The symbol table stage 2 loads after the BSS (struct bf_symtab_header, entries, names).
// Names are demangled and cut at max_name bytes.
std::vector<uint8_t> build_symtab(const ElfImage &k, size_t max_name = 120);

// False with a message in err when the bytes are not a bootable kernel: not ELF, not 64-bit
// little-endian x86-64, position-independent, no PT_LOAD, overlapping or out-of-file segments,
// no kernel_entry symbol.
bool load_elf_image(const std::vector<uint8_t> &elf, ElfImage &out, std::string &err);
