// The JIT interface without LLVM, for host unit tests (and any build that leaves LLVM out): init
// says so, nothing is ever compiled, and the dispatch table keeps every kernel on its AOT version.
// The kernel build uses engine.cpp instead (the Makefile leaves this file out).
#include "jit.h"

namespace bf::jit {

namespace {
Options opts;
const std::string none = "none";
}  // namespace

bool init(const Options &o, std::string &err) {
    opts = o;
    opts.enabled = false;
    err = "this build has no JIT (LLVM not linked)";
    return false;
}
bool ready() { return false; }
const Options &options() { return opts; }
const std::string &cpu_name() { return none; }
const std::string &cpu_features() { return none; }
const char *bitcode_variant() { return "none"; }
const std::string &cpu_identity() { return none; }
const std::vector<Variant> &variants() {
    static const std::vector<Variant> empty;
    return empty;
}
const Variant *find_variant(const char *) { return nullptr; }
bool force_variant(const char *) { return false; }
bool variant_applies(const Variant &, const char *) { return false; }
std::string decision_key(const char *, const std::vector<std::pair<int, int64_t>> &) { return ""; }
bool load_decision(const std::string &, tune::Decision &) { return false; }
void store_decision(const std::string &, const tune::Decision &) {}
Compiled compile(const char *, const std::vector<std::pair<int, int64_t>> &, const char *, const Variant *) {
    Compiled c;
    c.error = "this build has no JIT";
    return c;
}
struct Pending {
    Compiled out;
};
Pending *compile_start(const char *symbol, const std::vector<std::pair<int, int64_t>> &binds, const char *label,
                       const Variant *v, bool) {
    return new Pending{compile(symbol, binds, label, v)};
}
bool compile_poll(Pending *p, Compiled &out) {
    out = p->out;
    delete p;
    return true;
}
Stats stats() { return Stats{}; }

}  // namespace bf::jit
