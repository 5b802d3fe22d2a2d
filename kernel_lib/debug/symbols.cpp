#include "symbols.h"

#include "../../boot/include/bootinfo.h"

namespace bf {

namespace {
const bf_symtab_entry *entries;
const char *names;
uint32_t count, names_size;
}  // namespace

void symbols_init(uint64_t addr, uint64_t size) {
    if (size < sizeof(bf_symtab_header)) return;
    const auto *h = reinterpret_cast<const bf_symtab_header *>(addr);
    const char magic[] = BF_SYMTAB_MAGIC;
    for (int i = 0; i < 8; i++)
        if (h->magic[i] != magic[i]) return;
    uint64_t need = sizeof *h + uint64_t(h->count) * sizeof(bf_symtab_entry) + h->strings_size;
    if (need > size) return;
    entries = reinterpret_cast<const bf_symtab_entry *>(h + 1);
    names = reinterpret_cast<const char *>(entries + h->count);
    count = h->count;
    names_size = h->strings_size;
}

const char *symbolize(uint64_t pc, uint64_t *offset) {
    uint32_t lo = 0, hi = count;  // the last entry with addr <= pc
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (entries[mid].addr <= pc) lo = mid + 1;
        else hi = mid;
    }
    if (lo == 0) return nullptr;
    const bf_symtab_entry &e = entries[lo - 1];
    if (e.size && pc >= e.addr + e.size) return nullptr;  // in a gap between functions
    if (e.name >= names_size) return nullptr;
    *offset = pc - e.addr;
    return names + e.name;
}

uint32_t symbol_count() { return count; }

}  // namespace bf
