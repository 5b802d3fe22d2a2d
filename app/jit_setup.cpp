// jit_setup.h: settings -> JIT options, and the JIT's start-up lines.
#include "jit_setup.h"

#include "bareflow/kernel.h"
#include "bareflow/record.h"

#include <cstdio>
#include <cstring>
#include <string>

namespace bf::app {

bf::jit::Options jit_options_from_config(const Settings &c) {
    bf::jit::Options o;
    if (c.jit == Tristate::Off) o.enabled = false;
    if (c.jit_cache == JitCache::Off) o.use_cache = false;
    if (c.jit_cache == JitCache::Clear) o.clear_cache = true;
    if (c.jit_hot_calls >= 0) o.hot_calls = uint64_t(c.jit_hot_calls);
    if (c.jit_hot_cycles >= 0) o.hot_cycles = uint64_t(c.jit_hot_cycles);
    o.tune_set = c.jit_tune != JitTune::Unset;
    if (o.tune_set)
        o.tune = c.jit_tune == JitTune::Search ? bf::jit::Options::Tune::Search
               : c.jit_tune == JitTune::Keep   ? bf::jit::Options::Tune::Keep
                                               : bf::jit::Options::Tune::Off;
    if (c.jit_search_ms >= 0) o.search_ms = uint64_t(c.jit_search_ms);
    o.variant = c.jit_variant;
    o.compile = c.jit_compile == JitCompile::Inline ? bf::jit::Options::Compile::Inline : bf::jit::Options::Compile::Background;
    return o;
}

bool start_jit(const bf::jit::Options &opt) {
    std::string err;
    bf::jit::Options o = opt;
    if (!bf::jit::init(opt, err)) {
        std::fprintf(stderr, "jit: not available (%s): kernels stay on their AOT versions\n", err.c_str());
        return false;
    }
    if (!o.enabled) {
        std::fprintf(stderr, "jit: off (jit=off): kernels stay on their AOT versions\n");
        return true;
    }
    const std::string &f = bf::jit::cpu_features();
    std::string vec;
    for (const char *feat : {"+sse4.2", "+avx", "+avx2", "+fma", "+avx512f", "+avx512bw", "+avx512vl",
                             "+avx512vnni", "+avx512bf16", "+amx-tile"}) {
        size_t p = f.find(feat);
        if (p != std::string::npos && (p + std::strlen(feat) == f.size() || f[p + std::strlen(feat)] == ','))
            vec += std::string(vec.empty() ? "" : " ") + (feat + 1);
    }
    std::string names, json;
    for (const bf::jit::Variant &v : bf::jit::variants()) {
        names += std::string(names.empty() ? "" : ", ") + v.name;
        json += std::string(json.empty() ? "\"" : ",\"") + v.name + "\"";
    }
    o = bf::jit::options();  // init() drops a jit_variant this CPU does not offer (and says so)
    static const char *const kTune[] = {"search", "keep", "off"};
    const char *tune = kTune[int(o.tune)];
    // One line (tests and people read the next line as the hw record's): the target, the code on
    // offer, what happens to a hot kernel, and the CPU identity the cache keys carry.
    const bool no_search = !o.tune_set && o.tune == bf::jit::Options::Tune::Keep;  // no cache to remember one
    // Where compiles run (jit/background.h): on a spare core, the calls running AOT meanwhile.
    const char *where = o.compile == bf::jit::Options::Compile::Inline
                            ? "on the calling core (jit_compile=inline)"
                            : "on a spare core when the pool leaves one (threads < cores), else on the calling core";
    std::fprintf(stderr, "jit: target CPU %s, vector features: %s; kernel bitcode: %s; code variants: %s; tuning: %s%s%s; %s; compiles: %s\n",
                 bf::jit::cpu_name().c_str(), vec.c_str(), bf::jit::bitcode_variant(), names.c_str(),
                 o.variant.empty() ? tune : "off, every kernel gets ", o.variant.c_str(),
                 no_search ? " (no /JIT cache to remember a search: jit_tune=search searches anyway)" : "",
                 bf::jit::cpu_identity().c_str(), where);
    bf::recordf("{\"record\":\"jit_target\",\"cpu\":\"%s\",\"features\":\"%s\",\"bitcode\":\"%s\",\"hot_calls\":%llu,"
                "\"hot_cycles\":%llu,\"cache\":%s,\"identity\":\"%s\",\"tune\":\"%s\",\"search_ms\":%llu,\"variants\":[%s],"
                "\"compile\":\"%s\"}\n",
                bf::jit::cpu_name().c_str(), f.c_str(), bf::jit::bitcode_variant(), static_cast<unsigned long long>(o.hot_calls),
                static_cast<unsigned long long>(o.hot_cycles), o.use_cache ? "true" : "false", bf::jit::cpu_identity().c_str(),
                o.variant.empty() ? tune : "forced", static_cast<unsigned long long>(o.search_ms), json.c_str(),
                o.compile == bf::jit::Options::Compile::Inline ? "inline" : "background");
    return true;
}

}  // namespace bf::app
