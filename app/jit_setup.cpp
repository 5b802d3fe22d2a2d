// jit_setup.h: settings -> JIT options, and the JIT's start-up lines.
#include "jit_setup.h"

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
    return o;
}

bool start_jit(const bf::jit::Options &o) {
    std::string err;
    if (!bf::jit::init(o, err)) {
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
    std::fprintf(stderr, "jit: target CPU %s, vector features: %s; kernel bitcode: %s\n", bf::jit::cpu_name().c_str(),
                vec.c_str(), bf::jit::bitcode_variant());
    bf::recordf("{\"record\":\"jit_target\",\"cpu\":\"%s\",\"features\":\"%s\",\"bitcode\":\"%s\",\"hot_calls\":%llu,"
                "\"hot_cycles\":%llu,\"cache\":%s}\n",
                bf::jit::cpu_name().c_str(), f.c_str(), bf::jit::bitcode_variant(), static_cast<unsigned long long>(o.hot_calls),
                static_cast<unsigned long long>(o.hot_cycles), o.use_cache ? "true" : "false");
    return true;
}

}  // namespace bf::app
