// A small GGUF v3 writer (the layout gguf.h describes): metadata and tensor infos are declared
// first, then image() lays the whole file out in one buffer: header, key/values, tensor infos,
// zero padding to the alignment, and each tensor's data at an aligned offset (zero-padded after).
// The caller then fills every tensor's bytes in place (tensor_data), so a converter quantizes
// straight into the file image without a second copy of the weights.
#pragma once
#include <stddef.h>
#include <stdint.h>

#include <string>
#include <string_view>
#include <vector>

#include "gguf.h"

namespace bf::llm::gguf {

class Writer {
public:
    // alignment: a power of two; record it as general.alignment (add_u32) unless it is 32.
    explicit Writer(uint32_t alignment = uint32_t(kDefaultAlignment)) : alignment_(alignment) {}
    uint32_t alignment() const { return alignment_; }

    // Metadata, kept in call order. Keys must be unique (the reader refuses duplicates).
    void add_u32(std::string_view key, uint32_t v);
    void add_i32(std::string_view key, int32_t v);
    void add_f32(std::string_view key, float v);
    void add_bool(std::string_view key, bool v);
    void add_string(std::string_view key, std::string_view v);
    void add_strings(std::string_view key, const std::vector<std::string> &v);
    void add_f32s(std::string_view key, const float *v, size_t n);
    void add_i32s(std::string_view key, const int32_t *v, size_t n);

    // Declares a tensor of ne[0..n_dims) values (innermost first) of a type gguf.h knows; ne[0] a
    // multiple of its block size. Returns its index, or -1 with err set.
    int add_tensor(std::string_view name, uint32_t type, uint32_t n_dims, const int64_t *ne, std::string &err);
    size_t n_tensors() const { return tensors_.size(); }
    uint64_t tensor_bytes(size_t i) const { return tensors_[i].size; }

    // The file image with every tensor's bytes zero: false with err if it does not fit in memory.
    bool image(std::vector<uint8_t> &out, std::string &err);
    // Where tensor i's bytes go in an image made by image().
    uint8_t *tensor_data(std::vector<uint8_t> &img, size_t i) const { return img.data() + data_offset_ + tensors_[i].offset; }

private:
    struct Info {
        std::string name;
        uint32_t type, n_dims;
        int64_t ne[kMaxDims];
        uint64_t size, offset;  // offset relative to the data section
    };
    void key(std::string_view k, ValueType t);
    void put(const void *p, size_t n) { kv_.insert(kv_.end(), static_cast<const uint8_t *>(p), static_cast<const uint8_t *>(p) + n); }
    void put_u32(uint32_t v) { put(&v, 4); }
    void put_u64(uint64_t v) { put(&v, 8); }
    void put_str(std::string_view s) { put_u64(s.size()); put(s.data(), s.size()); }

    uint32_t alignment_;
    std::vector<uint8_t> kv_;  // the encoded key/value pairs
    uint64_t n_kv_ = 0;
    std::vector<Info> tensors_;
    uint64_t data_bytes_ = 0;       // the data section's size so far (aligned)
    uint64_t data_offset_ = 0;  // set by image()
};

}  // namespace bf::llm::gguf
