// LLJIT set-up, specialization and compilation (jit.h).
#include "jit.h"

#include "cache.h"

#include "llvm/Bitcode/BitcodeReader.h"
#include "llvm/ExecutionEngine/Orc/CompileUtils.h"
#include "llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h"
#include "llvm/ExecutionEngine/Orc/LLJIT.h"
#include "llvm/ExecutionEngine/Orc/ThreadSafeModule.h"
#include "llvm/IR/Constants.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/Module.h"
#include "llvm/Object/ObjectFile.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/TargetSelect.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>

extern "C" const char bf_kernels_bc_base[], bf_kernels_bc_base_end[];  // jit/kernels_bc.S
extern "C" const char bf_kernels_bc_avx2[], bf_kernels_bc_avx2_end[];
extern "C" const char bf_kernels_bc_avx512[], bf_kernels_bc_avx512_end[];

namespace bf::jit {

using namespace llvm;
using namespace llvm::orc;

namespace {

Options opts;
std::unique_ptr<LLJIT> lljit;
std::unique_ptr<TargetMachine> tm;
std::string cpu, features;
ObjectFileCache *cache;
Stats st;
uint64_t bitcode_hash;
const char *bc_begin, *bc_end, *bc_variant;

bool has_feature(const std::string &f, const char *name) {  // "+avx2" as a whole item
    size_t n = strlen(name);
    for (size_t p = f.find(name); p != std::string::npos; p = f.find(name, p + 1))
        if ((p == 0 || f[p - 1] == ',') && (p + n == f.size() || f[p + n] == ',')) return true;
    return false;
}

void optimize(Module &m) {  // LLJIT runs no IR passes by itself: this is the -O3
    LoopAnalysisManager lam;
    FunctionAnalysisManager fam;
    CGSCCAnalysisManager cam;
    ModuleAnalysisManager mam;
    PassBuilder pb(tm.get());
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
    // The bitcode whose tile sizes fit this CPU's vector registers; avx2 and avx512 are built
    // with AVX2, FMA and F16C (the quantized kernels' intrinsics), so they need all three.
    const bool v3 = has_feature(features, "+avx2") && has_feature(features, "+fma") && has_feature(features, "+f16c");
    if (v3 && has_feature(features, "+avx512f")) {
        bc_begin = bf_kernels_bc_avx512, bc_end = bf_kernels_bc_avx512_end, bc_variant = "avx512";
    } else if (v3) {
        bc_begin = bf_kernels_bc_avx2, bc_end = bf_kernels_bc_avx2_end, bc_variant = "avx2";
    } else {
        bc_begin = bf_kernels_bc_base, bc_end = bf_kernels_bc_base_end, bc_variant = "base";
    }
    bitcode_hash = fnv1a(bc_begin, size_t(bc_end - bc_begin));
    cache = new ObjectFileCache(opts.use_cache, opts.clear_cache);
    auto j = LLJITBuilder()
                 .setJITTargetMachineBuilder(*jtmb)
                 .setNumCompileThreads(0)  // compile on the calling thread: there is one CPU
                 .setCompileFunctionCreator(
                     [](JITTargetMachineBuilder b) -> Expected<std::unique_ptr<IRCompileLayer::IRCompiler>> {
                         auto m = b.createTargetMachine();
                         if (!m) return m.takeError();
                         return std::make_unique<TMOwningSimpleCompiler>(std::move(*m), cache);
                     })
                 .create();
    if (!j) {
        err = "LLJIT: " + toString(j.takeError());
        return false;
    }
    lljit = std::move(*j);
    lljit->getIRTransformLayer().setTransform(
        [](ThreadSafeModule m, const MaterializationResponsibility &) -> Expected<ThreadSafeModule> {
            m.withModuleDo([](Module &mod) { optimize(mod); });
            return std::move(m);
        });
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
Stats stats() { return st; }

Compiled compile(const char *symbol, const std::vector<std::pair<int, int64_t>> &binds, const char *label) {
    Compiled out;
    if (!lljit) {
        out.error = "JIT not initialized";
        return out;
    }
    auto t0 = std::chrono::steady_clock::now();
    // The cache key: bitcode, kernel, bound values, CPU, features, LLVM version, opt level.
    uint64_t k = fnv1a(symbol, strlen(symbol), bitcode_hash);
    for (auto &[idx, val] : binds) {  // field by field: std::pair has padding bytes
        int64_t f[2] = {idx, val};
        k = fnv1a(f, sizeof f, k);
    }
    k = fnv1a(cpu.data(), cpu.size(), k);
    k = fnv1a(features.data(), features.size(), k);
    k = fnv1a(LLVM_VERSION_STRING, strlen(LLVM_VERSION_STRING), k);
    k = fnv1a("O3", 2, k);
    out.key = hex(k);
    std::string spec_name = std::string("bfjit_") + out.key;
    auto finish = [&](bool from_cache) {  // from the cache: out.fn is set; else the lookup compiles
        if (!from_cache) {
            auto sym = lljit->lookup(spec_name);
            if (!sym) {
                out.error = "link: " + toString(sym.takeError());
                return out;
            }
            out.fn = sym->toPtr<void *>();
        }
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
    if (label) fprintf(stderr, "jit: compiling %s for %s ...\n", label, cpu.c_str());

    auto ctx = std::make_unique<LLVMContext>();
    auto buf = MemoryBuffer::getMemBuffer(
        StringRef(bc_begin, size_t(bc_end - bc_begin)), "kernels.bc", false);
    auto parsed = parseBitcodeFile(*buf, *ctx);
    if (!parsed) {
        out.error = "bitcode: " + toString(parsed.takeError());
        return out;
    }
    std::unique_ptr<Module> m = std::move(*parsed);
    m->setModuleIdentifier(out.key);  // the object cache finds its file by this
    m->setDataLayout(tm->createDataLayout());
    m->setTargetTriple(tm->getTargetTriple().str());
    Function *f = m->getFunction(symbol);
    if (!f || f->isDeclaration()) {
        out.error = std::string("no kernel '") + symbol + "' in the embedded bitcode";
        return out;
    }
    // The specialization: a wrapper with the same signature that calls the kernel with the bound
    // arguments replaced by constants; the kernel is inlined into it and folded at -O3.
    Function *spec = Function::Create(f->getFunctionType(), GlobalValue::ExternalLinkage, spec_name, m.get());
    IRBuilder<> b(BasicBlock::Create(*ctx, "entry", spec));
    std::vector<Value *> args;
    for (auto &a : spec->args()) args.push_back(&a);
    for (auto &[idx, val] : binds) {
        if (idx < 0 || size_t(idx) >= args.size() || !args[idx]->getType()->isIntegerTy()) {
            out.error = "bad specialization argument index";
            return out;
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
    }
    f->addFnAttr(Attribute::AlwaysInline);
    for (GlobalVariable &g : m->globals())
        if (!g.isDeclaration()) g.setLinkage(GlobalValue::InternalLinkage);

    if (auto e = lljit->addIRModule(ThreadSafeModule(std::move(m), std::move(ctx)))) {
        out.error = "add module: " + toString(std::move(e));
        return out;
    }
    return finish(false);  // the lookup compiles it (and the cache stores the object)
}

}  // namespace bf::jit
