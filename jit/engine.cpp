// LLJIT set-up, specialization and compilation (jit.h).
#include "jit.h"

#include "background.h"
#include "cache.h"

#include "llvm/Bitcode/BitcodeReader.h"
#include "llvm/ExecutionEngine/Orc/CompileUtils.h"
#include "llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h"
#include "llvm/ExecutionEngine/Orc/LLJIT.h"
#include "llvm/IR/Constants.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/Module.h"
#include "llvm/Object/ObjectFile.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SmallVectorMemoryBuffer.h"
#include "llvm/Support/TargetSelect.h"

#include <cpuid.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>

extern "C" const char bf_kernels_bc_base[], bf_kernels_bc_base_end[];  // jit/kernels_bc.S
extern "C" const char bf_kernels_bc_avx2[], bf_kernels_bc_avx2_end[];
extern "C" const char bf_kernels_bc_avx512[], bf_kernels_bc_avx512_end[];
extern "C" const char bf_kernels_bc_avx512vnni[], bf_kernels_bc_avx512vnni_end[];

namespace bf::jit {

using namespace llvm;
using namespace llvm::orc;

namespace {

Options opts;
std::unique_ptr<LLJIT> lljit;
std::unique_ptr<TargetMachine> tm;
std::unique_ptr<JITTargetMachineBuilder> tm_builder;  // the spare core makes its own TargetMachine
std::string cpu, features;
ObjectFileCache *cache;
Stats st;
const char *bc_variant;  // the default recipe's bitcode
std::string identity;
std::vector<Variant> vars;

struct Bitcode {
    const char *name, *begin, *end;
    uint64_t hash;
};
Bitcode bitcodes[] = {{"base", bf_kernels_bc_base, bf_kernels_bc_base_end, 0},
                      {"avx2", bf_kernels_bc_avx2, bf_kernels_bc_avx2_end, 0},
                      {"avx512", bf_kernels_bc_avx512, bf_kernels_bc_avx512_end, 0},
                      {"avx512vnni", bf_kernels_bc_avx512vnni, bf_kernels_bc_avx512vnni_end, 0}};
const Bitcode &bitcode(const char *name) {
    for (const Bitcode &b : bitcodes)
        if (!strcmp(b.name, name)) return b;
    return bitcodes[0];
}

bool has_feature(const std::string &f, const char *name) {  // "+avx2" as a whole item
    size_t n = strlen(name);
    for (size_t p = f.find(name); p != std::string::npos; p = f.find(name, p + 1))
        if ((p == 0 || f[p - 1] == ',') && (p + n == f.size() || f[p + n] == ',')) return true;
    return false;
}

void optimize(Module &m, TargetMachine *t) {  // LLJIT runs no IR passes by itself: this is the -O3
    LoopAnalysisManager lam;
    FunctionAnalysisManager fam;
    CGSCCAnalysisManager cam;
    ModuleAnalysisManager mam;
    PassBuilder pb(t);
    pb.registerModuleAnalyses(mam);
    pb.registerCGSCCAnalyses(cam);
    pb.registerFunctionAnalyses(fam);
    pb.registerLoopAnalyses(lam);
    pb.crossRegisterProxies(lam, fam, cam, mam);
    pb.buildPerModuleDefaultPipeline(OptimizationLevel::O3).run(m, mam);
}

// The C library functions kernels may call. A static binary has no dlsym, so they are given
// to the JIT by address.
Error define_runtime_symbols(JITDylib &jd, MangleAndInterner &mangle) {
    SymbolMap m;
    auto add = [&](const char *name, void *p) {
        m[mangle(name)] = {ExecutorAddr::fromPtr(p), JITSymbolFlags::Exported};
    };
    add("expf", reinterpret_cast<void *>(static_cast<float (*)(float)>(::expf)));
    add("sqrtf", reinterpret_cast<void *>(static_cast<float (*)(float)>(::sqrtf)));
    add("powf", reinterpret_cast<void *>(static_cast<float (*)(float, float)>(::powf)));
    add("cosf", reinterpret_cast<void *>(static_cast<float (*)(float)>(::cosf)));
    add("sinf", reinterpret_cast<void *>(static_cast<float (*)(float)>(::sinf)));
    add("memcpy", reinterpret_cast<void *>(::memcpy));
    add("memset", reinterpret_cast<void *>(::memset));
    add("memmove", reinterpret_cast<void *>(::memmove));
    return jd.define(absoluteSymbols(std::move(m)));
}

uint64_t fnv1a(const void *p, size_t n, uint64_t h = 1469598103934665603ull) {
    const unsigned char *b = static_cast<const unsigned char *>(p);
    for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 1099511628211ull;
    return h;
}

std::string hex(uint64_t v) {
    char b[17];
    snprintf(b, sizeof b, "%016llx", static_cast<unsigned long long>(v));
    return b;
}

std::string read_identity() {
    unsigned a = 0, b = 0, c = 0, d = 0;
    if (!__get_cpuid(0, &a, &b, &c, &d)) return "unknown CPU";
    char vendor[13];
    memcpy(vendor, &b, 4);
    memcpy(vendor + 4, &d, 4);
    memcpy(vendor + 8, &c, 4);
    vendor[12] = 0;
    __get_cpuid(1, &a, &b, &c, &d);
    unsigned family = (a >> 8) & 0xF, model = (a >> 4) & 0xF;
    if (family == 0xF) family += (a >> 20) & 0xFF;
    if (family >= 6) model |= ((a >> 16) & 0xF) << 4;
    char out[96];
    snprintf(out, sizeof out, "%s family %u model %u stepping %u", vendor, family, model, a & 0xF);
    return out;
}

// The variants offered on this CPU: the default recipe, then one change each.
void make_variants() {
    auto add = [](const char *name, const char *bc, int bits, int64_t prefetch) {
        Variant v{};
        snprintf(v.name, sizeof v.name, "%s", name);
        v.bitcode = bc;
        v.vector_bits = bits;
        v.prefetch = prefetch;
        vars.push_back(v);
    };
    const std::string d = bc_variant;
    const bool wide = d == "avx512" || d == "avx512vnni";
    add(d.c_str(), bc_variant, 0, 0);
    if (wide) add((d + "/v256").c_str(), bc_variant, 256, 0);  // 512-bit vectors can clock lower
    if (d != "base") {
        add((d + "/v128").c_str(), bc_variant, 128, 0);  // narrower vectors can stream faster
        if (d == "avx512vnni") add("avx512", "avx512", 0, 0);  // the dot products without vpdpbusd
        if (wide) add("avx2", "avx2", 0, 0);
        add("base", "base", 0, 0);                         // the baseline tiles, this CPU's code
    }
    // The software prefetch distance: the bitcode's default (kernels.cpp: 4 KB in the avx512
    // ones, else 2 KB) and the others.
    add((d + "/pf1k").c_str(), bc_variant, 0, 1024);
    if (wide) add((d + "/pf2k").c_str(), bc_variant, 0, 2048);
    else add((d + "/pf4k").c_str(), bc_variant, 0, 4096);
}

constexpr const char *kPrefetchKnob = "bf_tune_prefetch_ahead";

// The kernel symbols whose code reads the prefetch knob (directly or through what they call),
// found once in the default bitcode.
bool reads_prefetch(const char *symbol) {
    static bool done;
    static std::vector<std::string> readers;
    if (!done) {
        done = true;
        LLVMContext ctx;
        const Bitcode &b = bitcode(bc_variant);
        auto buf = MemoryBuffer::getMemBuffer(StringRef(b.begin, size_t(b.end - b.begin)), "kernels.bc", false);
        auto m = parseBitcodeFile(*buf, ctx);
        if (!m) {
            consumeError(m.takeError());
            return false;
        }
        GlobalVariable *g = (*m)->getNamedGlobal(kPrefetchKnob);
        if (!g) return false;
        std::vector<const Function *> reach;
        auto reached = [&](const Function *f) { return std::find(reach.begin(), reach.end(), f) != reach.end(); };
        for (const User *u : g->users())
            if (auto *i = dyn_cast<Instruction>(u))
                if (!reached(i->getFunction())) reach.push_back(i->getFunction());
        for (bool grew = true; grew;) {  // callers of readers read it too
            grew = false;
            for (const Function &f : **m) {
                if (f.isDeclaration() || reached(&f)) continue;
                bool calls = false;
                for (const BasicBlock &bb : f)
                    for (const Instruction &i : bb)
                        if (auto *cb = dyn_cast<CallBase>(&i))
                            if (const Function *callee = cb->getCalledFunction(); callee && reached(callee)) calls = true;
                if (calls) {
                    reach.push_back(&f);
                    grew = true;
                }
            }
        }
        for (const Function *f : reach) readers.push_back(f->getName().str());
    }
    return std::find(readers.begin(), readers.end(), symbol) != readers.end();
}

// Links a cached object in a JITDylib of its own (linked against the main one for the runtime
// symbols): a failure then leaves nothing in the main one that the recompiled kernel, under the
// same symbol, would collide with. nullptr on success (out.fn set), else why (detail: LLVM's words).
const char *link_cached(std::unique_ptr<MemoryBuffer> obj, const std::string &symbol, Compiled &out,
                        std::string &detail) {
    auto file = object::ObjectFile::createObjectFile(obj->getMemBufferRef());
    if (!file) {
        detail = toString(file.takeError());
        return "LLVM cannot read the object";
    }
    bool defines = false;  // an object stored under another key defines another kernel
    for (const object::SymbolRef &s : (*file)->symbols()) {
        auto name = s.getName();
        auto flags = s.getFlags();
        if (!name || !flags) {
            consumeError(name.takeError());
            consumeError(flags.takeError());
            continue;
        }
        if (*name == symbol && !(*flags & object::SymbolRef::SF_Undefined)) defines = true;
    }
    if (!defines) return "the object does not define this key's kernel";
    static unsigned n;
    auto jd = lljit->createJITDylib("bfjit.cache." + std::to_string(n++));
    if (!jd) {
        detail = toString(jd.takeError());
        return "LLVM could not make room for the object";
    }
    jd->addToLinkOrder(lljit->getMainJITDylib());
    if (auto e = lljit->addObjectFile(*jd, std::move(obj))) {
        detail = toString(std::move(e));
        return "LLVM refused the object";
    }
    auto sym = lljit->lookup(*jd, symbol);
    if (!sym) {
        detail = toString(sym.takeError());
        return "LLVM could not link the object";
    }
    out.fn = sym->toPtr<void *>();
    return nullptr;
}

// The kernel `symbol` of variant v's bitcode with `binds` folded in, as a module of its own in
// ctx whose one external function is "bfjit_<key>"; nullptr and err if that fails. Reads only
// what init() set, so a compile on the spare core can call it too.
std::unique_ptr<Module> make_module(const char *symbol, const std::vector<std::pair<int, int64_t>> &binds,
                                    const Variant &v, const std::string &key, LLVMContext &ctx, std::string &err) {
    const Bitcode &bc = bitcode(v.bitcode);
    auto buf = MemoryBuffer::getMemBuffer(
        StringRef(bc.begin, size_t(bc.end - bc.begin)), "kernels.bc", false);
    auto parsed = parseBitcodeFile(*buf, ctx);
    if (!parsed) {
        err = "bitcode: " + toString(parsed.takeError());
        return nullptr;
    }
    std::unique_ptr<Module> m = std::move(*parsed);
    m->setModuleIdentifier(key);
    m->setDataLayout(tm->createDataLayout());
    m->setTargetTriple(tm->getTargetTriple().str());
    Function *f = m->getFunction(symbol);
    if (!f || f->isDeclaration()) {
        err = std::string("no kernel '") + symbol + "' in the embedded bitcode";
        return nullptr;
    }
    // The specialization: a wrapper with the same signature that calls the kernel with the bound
    // arguments replaced by constants; the kernel is inlined into it and folded at -O3.
    const std::string spec_name = "bfjit_" + key;
    Function *spec = Function::Create(f->getFunctionType(), GlobalValue::ExternalLinkage, spec_name, m.get());
    IRBuilder<> b(BasicBlock::Create(ctx, "entry", spec));
    std::vector<Value *> args;
    for (auto &a : spec->args()) args.push_back(&a);
    for (auto &[idx, val] : binds) {
        if (idx < 0 || size_t(idx) >= args.size() || !args[idx]->getType()->isIntegerTy()) {
            err = "bad specialization argument index";
            return nullptr;
        }
        args[idx] = ConstantInt::get(args[idx]->getType(), uint64_t(val), true);
    }
    CallInst *call = b.CreateCall(f, args);
    if (f->getReturnType()->isVoidTy()) b.CreateRetVoid();
    else b.CreateRet(call);
    for (Function &fn : *m) {
        if (fn.isDeclaration()) continue;
        if (&fn != spec) fn.setLinkage(GlobalValue::InternalLinkage);
        fn.removeFnAttr("target-cpu");
        fn.removeFnAttr("target-features");
        fn.removeFnAttr(Attribute::NoInline);
        fn.removeFnAttr(Attribute::OptimizeNone);
        fn.addFnAttr("target-cpu", cpu);
        fn.addFnAttr("target-features", features);
        if (v.vector_bits) fn.addFnAttr("prefer-vector-width", std::to_string(v.vector_bits));
    }
    if (GlobalVariable *g = m->getNamedGlobal(kPrefetchKnob); g && v.prefetch && g->hasInitializer())
        g->setInitializer(ConstantInt::get(g->getValueType(), uint64_t(v.prefetch)));
    f->addFnAttr(Attribute::AlwaysInline);
    for (GlobalVariable &g : m->globals())
        if (!g.isDeclaration()) g.setLinkage(GlobalValue::InternalLinkage);

    return m;
}

}  // namespace

bool init(const Options &o, std::string &err) {
    opts = o;
    if (!opts.enabled) return true;
    InitializeNativeTarget();
    InitializeNativeTargetAsmPrinter();
    auto jtmb = JITTargetMachineBuilder::detectHost();
    if (!jtmb) {
        err = "host detection failed: " + toString(jtmb.takeError());
        return false;
    }
    jtmb->setCodeGenOptLevel(CodeGenOptLevel::Aggressive);
    cpu = jtmb->getCPU();
    features = jtmb->getFeatures().getString();
    auto t = jtmb->createTargetMachine();
    if (!t) {
        err = "target machine: " + toString(t.takeError());
        return false;
    }
    tm = std::move(*t);
    tm_builder = std::make_unique<JITTargetMachineBuilder>(*jtmb);
    // The bitcode whose tile sizes fit this CPU's vector registers; each is built with the
    // features its intrinsics need (Makefile), so it needs them all: avx2 AVX2, FMA and F16C;
    // avx512 also AVX512-F/BW/VL; avx512vnni also AVX512-VNNI (vpdpbusd).
    const bool v3 = has_feature(features, "+avx2") && has_feature(features, "+fma") && has_feature(features, "+f16c");
    const bool avx512 = v3 && has_feature(features, "+avx512f") && has_feature(features, "+avx512bw") &&
                        has_feature(features, "+avx512vl");
    const bool vnni = avx512 && has_feature(features, "+avx512vnni");
    bc_variant = vnni ? "avx512vnni" : avx512 ? "avx512" : v3 ? "avx2" : "base";
    for (Bitcode &b : bitcodes) b.hash = fnv1a(b.begin, size_t(b.end - b.begin));
    identity = read_identity();
    make_variants();
    if (!opts.variant.empty() && !find_variant(opts.variant.c_str())) {
        std::string names;
        for (const Variant &v : vars) names += std::string(names.empty() ? "" : ", ") + v.name;
        fprintf(stderr, "jit: jit_variant '%s' is not offered on this CPU (%s): using the default recipe\n",
                opts.variant.c_str(), names.c_str());
        opts.variant.clear();
    }
    cache = new ObjectFileCache(opts.use_cache, opts.clear_cache);
    if (!cache->enabled() && !opts.tune_set && opts.tune == Options::Tune::Search) opts.tune = Options::Tune::Keep;
    // LLJIT only links (objects built by build_object(), here or on the spare core, and cached
    // ones), each in a JITDylib of its own (link_cached); the runtime symbols are in the main one.
    auto j = LLJITBuilder().setJITTargetMachineBuilder(*jtmb).setNumCompileThreads(0).create();
    if (!j) {
        err = "LLJIT: " + toString(j.takeError());
        return false;
    }
    lljit = std::move(*j);
    MangleAndInterner mangle(lljit->getExecutionSession(), lljit->getDataLayout());
    if (auto e = define_runtime_symbols(lljit->getMainJITDylib(), mangle)) {
        err = "runtime symbols: " + toString(std::move(e));
        return false;
    }
    return true;
}

bool ready() { return lljit != nullptr; }
const Options &options() { return opts; }
const std::string &cpu_name() { return cpu; }
const std::string &cpu_features() { return features; }
const char *bitcode_variant() { return bc_variant ? bc_variant : "none"; }
const std::string &cpu_identity() { return identity; }
const std::vector<Variant> &variants() { return vars; }
bool force_variant(const char *name) {
    if (!find_variant(name)) return false;
    opts.variant = name;
    return true;
}
const Variant *find_variant(const char *name) {
    for (const Variant &v : vars)
        if (!strcmp(v.name, name)) return &v;
    return nullptr;
}
Stats stats() { return st; }

bool variant_applies(const Variant &v, const char *symbol) { return !v.prefetch || reads_prefetch(symbol); }

namespace {
// What every key shares: the CPU (its identity, LLVM's name and features), LLVM, the opt level.
uint64_t key_machine(uint64_t k) {
    k = fnv1a(identity.data(), identity.size(), k);
    k = fnv1a(cpu.data(), cpu.size(), k);
    k = fnv1a(features.data(), features.size(), k);
    k = fnv1a(LLVM_VERSION_STRING, strlen(LLVM_VERSION_STRING), k);
    return fnv1a("O3", 2, k);
}
uint64_t key_kernel(const char *symbol, const std::vector<std::pair<int, int64_t>> &binds, uint64_t k) {
    k = fnv1a(symbol, strlen(symbol), k);
    for (auto &[idx, val] : binds) {  // field by field: std::pair has padding bytes
        int64_t f[2] = {idx, val};
        k = fnv1a(f, sizeof f, k);
    }
    return k;
}
uint64_t key_variant(const Variant &v, uint64_t k) {
    int64_t f[2] = {v.vector_bits, v.prefetch};
    k = fnv1a(v.name, strlen(v.name), k);
    k = fnv1a(&bitcode(v.bitcode).hash, 8, k);
    return fnv1a(f, sizeof f, k);
}
// The cache key: kernel, bound values, the variant (its bitcode), the machine.
std::string key_of(const char *symbol, const std::vector<std::pair<int, int64_t>> &binds, const Variant &v) {
    return hex(key_machine(key_variant(v, key_kernel(symbol, binds, 1469598103934665603ull))));
}
}  // namespace

std::string decision_key(const char *symbol, const std::vector<std::pair<int, int64_t>> &binds) {
    uint64_t k = key_kernel(symbol, binds, fnv1a("decision", 8));
    for (const Variant &v : vars) k = key_variant(v, k);  // another set of variants: another trial
    return hex(key_machine(k));
}

bool load_decision(const std::string &key, tune::Decision &d) {
    if (!cache) return false;
    uint64_t rejected = cache->rejected();
    bool ok = cache->load_decision(key, d);
    st.decisions_loaded += ok;
    st.decisions_rejected += cache->rejected() - rejected;
    return ok;
}

void store_decision(const std::string &key, const tune::Decision &d) {
    if (cache) cache->store_decision(key, d);
}

namespace {
// A kernel's object: the specialized module, -O3, code generation, with a TargetMachine of this
// thread's own (one is not shared between threads). Reads only what init() set, so it runs on
// the calling core or on the spare core alike. nullptr and err if it fails.
std::unique_ptr<MemoryBuffer> build_object(const char *symbol, const std::vector<std::pair<int, int64_t>> &binds,
                                           const Variant &v, const std::string &key, std::string &err) {
    static thread_local std::unique_ptr<TargetMachine> own;
    if (!own) {
        auto t = tm_builder->createTargetMachine();
        if (!t) {
            err = "target machine: " + toString(t.takeError());
            return nullptr;
        }
        own = std::move(*t);
    }
    LLVMContext ctx;
    std::unique_ptr<Module> m = make_module(symbol, binds, v, key, ctx, err);
    if (!m) return nullptr;
    optimize(*m, own.get());
    auto obj = SimpleCompiler(*own)(*m);
    if (!obj) {
        err = "code generation: " + toString(obj.takeError());
        return nullptr;
    }
    return std::move(*obj);
}

// A kernel just built: linked, and only once linked stored in /JIT (so /JIT never keeps an
// object that did not link); out.fn, or out.error. On the thread that does the file I/O.
void link_new(std::unique_ptr<MemoryBuffer> obj, Compiled &out) {
    auto copy = MemoryBuffer::getMemBufferCopy(obj->getBuffer(), out.key);
    std::string detail;
    if (const char *why = link_cached(std::move(obj), "bfjit_" + out.key, out, detail))
        out.error = std::string(why) + (detail.empty() ? "" : ": " + detail);
    else
        cache->store(out.key, copy->getMemBufferRef());
}
}  // namespace

Compiled compile(const char *symbol, const std::vector<std::pair<int, int64_t>> &binds, const char *label,
                 const Variant *v) {
    Compiled out;
    if (!lljit) {
        out.error = "JIT not initialized";
        return out;
    }
    if (!v) v = &vars[0];
    auto t0 = std::chrono::steady_clock::now();
    out.key = key_of(symbol, binds, *v);
    const std::string spec_name = "bfjit_" + out.key;
    auto finish = [&](bool from_cache) {
        if (!out.fn) return out;
        out.ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
        out.from_cache = from_cache;
        if (from_cache) st.cache_hits++;
        else st.compiled++;
        st.compile_ms_total += out.ms;
        return out;
    };

    // A valid cached object skips the IR entirely: no parsing, no -O3, no code generation. One
    // LLVM cannot use is deleted and the kernel compiled afresh, instead of failing (to AOT) on
    // every boot.
    uint64_t rejected_before = cache->rejected();
    if (auto obj = cache->load(out.key)) {
        std::string detail;
        const char *why = link_cached(std::move(obj), spec_name, out, detail);
        if (!why) return finish(true);
        cache->reject(out.key, why, detail);
    }
    st.cache_rejected += cache->rejected() - rejected_before;
    if (label) fprintf(stderr, "jit: compiling %s (%s) for %s ...\n", label, v->name, cpu.c_str());

    if (auto obj = build_object(symbol, binds, *v, out.key, out.error)) link_new(std::move(obj), out);
    return finish(false);
}

struct Pending {
    background::Job job;
    Compiled out;  // done in compile_start: the result; else its key
    bool queued = false;
    // Set on the spare core: the object or why there is none, and how long it took there.
    std::unique_ptr<MemoryBuffer> obj;
    std::string error;
    double run_ms = 0;
};


Pending *compile_start(const char *symbol, const std::vector<std::pair<int, int64_t>> &binds, const char *label,
                       const Variant *v, bool urgent) {
    Pending *p = new Pending();
    if (!v && !vars.empty()) v = &vars[0];
    const bool spare = lljit && v && background::available();
    if (!spare || cache->has(key_of(symbol, binds, *v))) {
        p->out = compile(symbol, binds, label, v);  // no spare core, or linked from the cache
        return p;
    }
    p->out.key = key_of(symbol, binds, *v);
    // What the spare core needs, by value: the caller's slot may change while it compiles.
    p->job.run = [p, sym = std::string(symbol), binds, var = *v] {
        const auto t0 = std::chrono::steady_clock::now();
        p->obj = build_object(sym.c_str(), binds, var, p->out.key, p->error);
        p->run_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    };
    if (label) fprintf(stderr, "jit: compiling %s (%s) for %s on a spare core ...\n", label, v->name, cpu.c_str());
    p->queued = background::submit(&p->job, urgent);
    if (!p->queued) p->out = compile(symbol, binds, nullptr, v);
    return p;
}

bool compile_poll(Pending *p, Compiled &out) {
    if (p->queued && !p->job.done.load(std::memory_order_acquire)) return false;
    if (p->queued) {  // linked and stored here, the thread that does the file I/O
        Compiled &c = p->out;
        const auto t0 = std::chrono::steady_clock::now();
        if (p->obj) link_new(std::move(p->obj), c);
        else c.error = p->error;
        // The compile's own time on the spare core and the link here (not the time it queued).
        c.ms = p->run_ms + std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
        if (c.fn) {
            st.compiled++;
            st.compile_ms_total += c.ms;
        }
    }
    out = std::move(p->out);
    delete p;
    return true;
}

}  // namespace bf::jit
