// libFuzzer target: the GGUF reader (app/llm/gguf.cpp) over the input as a file image; when it
// parses, every key is read through every typed getter, every array element is read, and every
// tensor's first and last byte is touched (ASan catches anything outside the input).
//
// Built and seeded by tests/fuzz/run.sh gguf_fuzz SECONDS (the test CMake project, BF_FUZZ=ON):
// the two small aidreams260K files whole, and every shared GGUF cut to its first 4 KiB.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <string>
#include <string_view>

#include "llm/generate.h"
#include "llm/model_gguf.h"

#include "llm/gguf.h"

namespace gguf = bf::llm::gguf;

static volatile uint64_t g_sink;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    gguf::File f;
    std::string err;
    if (!f.parse(data, size, err)) {
        if (err.empty()) abort();
        return 0;
    }
    uint64_t acc = f.alignment() + f.data_offset();
    for (size_t i = 0; i < f.n_keys(); i++) {
        const gguf::KeyValue &kv = f.key(i);
        if (f.find(kv.key) != &kv) abort();  // keys are unique
        uint32_t u32; int32_t i32; uint64_t u64; int64_t i64; float f32; bool b;
        std::string_view s;
        gguf::Array a;
        std::string why;
        acc += f.get_u32(kv.key, u32, &why) ? u32 : 0;
        acc += f.get_i32(kv.key, i32, &why) ? (uint32_t)i32 : 0;
        acc += f.get_u64(kv.key, u64, &why) ? u64 : 0;
        acc += f.get_f32(kv.key, f32, &why) ? (f32 == f32) : 0;
        acc += f.get_bool(kv.key, b, &why) ? b : 0;
        acc += f.get_int(kv.key, i64, &why) ? (uint64_t)i64 : 0;
        acc += f.get_uint(kv.key, u64, &why) ? u64 : 0;
        if (f.get_string(kv.key, s, &why)) acc += s.empty() ? 0 : (uint8_t)s.back();
        if (f.get_array(kv.key, a, &why)) {
            if (a.elem_type == gguf::ValueType::String) {
                gguf::StringCursor c = a.strings();
                uint64_t n = 0;
                while (c.next(s)) {
                    n++;
                    if (!s.empty()) acc += (uint8_t)s[0] + (uint8_t)s.back();
                }
                if (n != a.count) abort();  // parse() validated every string
            } else {
                for (uint64_t j = 0; j < a.count; j++) {
                    uint8_t u8;
                    int8_t i8;
                    if (a.get_u8(j, u8)) acc += u8;
                    if (a.get_i8(j, i8)) acc += (uint8_t)i8;
                    if (a.get_u32(j, u32)) acc += u32;
                    if (a.get_i32(j, i32)) acc += (uint32_t)i32;
                    if (a.get_u64(j, u64)) acc += u64;
                    if (a.get_i64(j, i64)) acc += (uint64_t)i64;
                    if (a.get_f32(j, f32)) acc += (f32 == f32);
                    if (a.get_bool(j, b)) acc += b;
                }
                if (a.count && a.raw[a.size - 1] == 0x5a) acc++;
            }
        }
    }
    for (size_t i = 0; i < f.n_tensors(); i++) {
        const gguf::Tensor &t = f.tensor(i);
        if (f.find_tensor(t.name) != &t) abort();  // names are unique
        if (t.size == 0 || t.offset < f.data_offset() || t.offset > size || t.size > size - t.offset)
            abort();
        if (t.data != data + t.offset) abort();
        if ((t.offset - f.data_offset()) % f.alignment()) abort();
        acc += t.data[0] + t.data[t.size - 1];
    }
    // As a model: every hyperparameter, tensor name, shape and type checked; when it loads, one
    // forward pass over whatever the weights hold (a small cap on the run state's size).
    bf::llm::Model m;
    if (bf::llm::load_gguf_model(f, m, err)) {
        bf::llm::RunState st;
        if (st.init(m.config, err, uint64_t(64) << 20)) {
            const float *logits = bf::llm::forward(m, st, 0, 0);
            if (!logits) abort();
            acc += logits[m.config.vocab_size - 1] == 0.0f;
        }
    } else if (err.empty()) {
        abort();
    }
    g_sink = acc;
    return 0;
}
