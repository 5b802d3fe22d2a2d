// GGUF writer (see gguf_write.h). Little-endian host assumed, as everywhere in BareFlow (x86-64).
#include "gguf_write.h"

#include <sys/sysinfo.h>

#include <string.h>

#include "fmt.h"

namespace bf::llm::gguf {
namespace {
uint64_t align_up(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }
}  // namespace

void Writer::key(std::string_view k, ValueType t) {
    put_str(k);
    put_u32(uint32_t(t));
    n_kv_++;
}

void Writer::add_u32(std::string_view k, uint32_t v) { key(k, ValueType::U32); put_u32(v); }
void Writer::add_i32(std::string_view k, int32_t v) { key(k, ValueType::I32); put(&v, 4); }
void Writer::add_f32(std::string_view k, float v) { key(k, ValueType::F32); put(&v, 4); }
void Writer::add_bool(std::string_view k, bool v) {
    key(k, ValueType::Bool);
    const uint8_t b = v ? 1 : 0;
    put(&b, 1);
}
void Writer::add_string(std::string_view k, std::string_view v) { key(k, ValueType::String); put_str(v); }

void Writer::add_strings(std::string_view k, const std::vector<std::string> &v) {
    key(k, ValueType::Array);
    put_u32(uint32_t(ValueType::String));
    put_u64(v.size());
    for (const std::string &s : v) put_str(s);
}
void Writer::add_f32s(std::string_view k, const float *v, size_t n) {
    key(k, ValueType::Array);
    put_u32(uint32_t(ValueType::F32));
    put_u64(n);
    put(v, n * 4);
}
void Writer::add_i32s(std::string_view k, const int32_t *v, size_t n) {
    key(k, ValueType::Array);
    put_u32(uint32_t(ValueType::I32));
    put_u64(n);
    put(v, n * 4);
}

int Writer::add_tensor(std::string_view name, uint32_t type, uint32_t n_dims, const int64_t *ne, std::string &err) {
    const TypeTraits *tt = type_traits(type);
    const std::string nm(name);
    if (!tt) {
        err = fmt("gguf write: tensor %s: unsupported type %u", nm.c_str(), type);
        return -1;
    }
    if (n_dims < 1 || n_dims > kMaxDims) {
        err = fmt("gguf write: tensor %s: %u dimensions", nm.c_str(), n_dims);
        return -1;
    }
    Info t{nm, type, n_dims, {1, 1, 1, 1}, 0, 0};
    uint64_t n = 1;
    for (uint32_t d = 0; d < n_dims; d++) {
        // At most 2^50 values in all: the byte size and every offset stay far from overflowing.
        if (ne[d] <= 0 || ne[d] > (int64_t(1) << 50) || n > (uint64_t(1) << 50) / uint64_t(ne[d])) {
            err = fmt("gguf write: tensor %s: bad dimension %lld", nm.c_str(), (long long)ne[d]);
            return -1;
        }
        t.ne[d] = ne[d];
        n *= uint64_t(ne[d]);
    }
    if (ne[0] % tt->block_size) {
        err = fmt("gguf write: tensor %s: row of %lld values is not a multiple of %s's block of %u", nm.c_str(),
                  (long long)ne[0], tt->name, tt->block_size);
        return -1;
    }
    t.size = n / tt->block_size * tt->block_bytes;
    t.offset = data_bytes_;
    data_bytes_ = align_up(data_bytes_ + t.size, alignment_);
    tensors_.push_back(std::move(t));
    return int(tensors_.size() - 1);
}

bool Writer::image(std::vector<uint8_t> &out, std::string &err) {
    uint64_t head = 4 + 4 + 8 + 8 + kv_.size();
    for (const Info &t : tensors_) head += 8 + t.name.size() + 4 + 8 * uint64_t(t.n_dims) + 4 + 8;
    data_offset_ = align_up(head, alignment_);
    const uint64_t total = data_offset_ + data_bytes_;
    if (total > out.max_size() || total > (uint64_t(1) << 52)) {
        err = fmt("gguf write: the file would be %llu bytes", (unsigned long long)total);
        return false;
    }
    // std::vector cannot report a failed allocation without exceptions: check the memory first.
    struct sysinfo si {};
    const uint64_t free_bytes = sysinfo(&si) == 0 ? uint64_t(si.freeram) * si.mem_unit : 0;
    if (free_bytes && total > free_bytes / 10 * 9) {
        err = fmt("gguf write: the file would be %llu MiB but %llu MiB are free", (unsigned long long)(total >> 20),
                  (unsigned long long)(free_bytes >> 20));
        return false;
    }
    out.assign(size_t(total), 0);  // zero padding everywhere the data does not go
    uint8_t *p = out.data();
    auto w = [&p](const void *src, size_t n) {
        memcpy(p, src, n);
        p += n;
    };
    const uint32_t version = 3;
    const uint64_t nt = tensors_.size();
    w("GGUF", 4);
    w(&version, 4);
    w(&nt, 8);
    w(&n_kv_, 8);
    w(kv_.data(), kv_.size());
    for (const Info &t : tensors_) {
        const uint64_t len = t.name.size();
        w(&len, 8);
        w(t.name.data(), t.name.size());
        w(&t.n_dims, 4);
        for (uint32_t d = 0; d < t.n_dims; d++) {
            const uint64_t v = uint64_t(t.ne[d]);
            w(&v, 8);
        }
        w(&t.type, 4);
        w(&t.offset, 8);
    }
    return true;
}

}  // namespace bf::llm::gguf
