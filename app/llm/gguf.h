// GGUF v2/v3 reader over an in-memory file image: no I/O, no copies of strings or tensor data
// (string views and pointers point into the caller's buffer: keep it alive).
//
// Layout (little endian): "GGUF", u32 version, u64 tensor_count, u64 kv_count; kv_count pairs of
// (string key, u32 value type, value); tensor_count infos of (string name, u32 n_dims,
// u64 ne[n_dims] innermost first, u32 ggml type, u64 offset relative to the data section); then
// the data section, starting at the end of the infos rounded up to general.alignment (default 32).
// A string is a u64 length and that many bytes (no NUL); an array is a u32 element type, a u64
// count and the elements.
//
// parse() checks everything against the file before it is used and refuses with a message that
// names the key or tensor: truncation anywhere, counts and lengths larger than the rest of the
// file, v1 and unknown versions, unknown value types, arrays of arrays, bools other than 0/1,
// duplicate keys, a general.alignment that is not a u32 power of two in [1, 1 MiB], more than 4
// dimensions, zero or negative dimensions, element counts or byte sizes that overflow int64,
// unknown and unsupported tensor types, rows that are not a multiple of the type's block size,
// duplicate tensor names, unaligned offsets, tensors outside the data section or overlapping.
#pragma once
#include <stddef.h>
#include <stdint.h>

#include <string>
#include <string_view>
#include <vector>

namespace bf::llm::gguf {

// Metadata value types (GGUF spec numbering).
enum class ValueType : uint32_t {
    U8 = 0, I8 = 1, U16 = 2, I16 = 3, U32 = 4, I32 = 5, F32 = 6, Bool = 7,
    String = 8, Array = 9, U64 = 10, I64 = 11, F64 = 12,
};
const char *value_type_name(ValueType t);  // "u32", "string", ...; "?" for others

// ggml tensor types (ids as in ggml.h). Only these are accepted by the reader.
enum TensorType : uint32_t {
    kF32 = 0, kF16 = 1, kQ4_0 = 2, kQ4_1 = 3, kQ5_0 = 6, kQ5_1 = 7, kQ8_0 = 8,
    kQ2_K = 10, kQ3_K = 11, kQ4_K = 12, kQ5_K = 13, kQ6_K = 14, kBF16 = 30,
};

struct TypeTraits {
    const char *name;     // ggml's name: "f32", "q4_K", ...
    uint32_t block_size;  // values per block
    uint32_t block_bytes; // bytes per block
};
// Traits of a supported type, or nullptr.
const TypeTraits *type_traits(uint32_t type);
// ggml's name of any type id it knows ("iq2_xxs", ...), or nullptr for ids it does not know.
const char *type_name(uint32_t type);

constexpr uint32_t kMaxDims = 4;
constexpr uint64_t kDefaultAlignment = 32;
constexpr uint64_t kMaxAlignment = 1u << 20;

// A value as stored in the file. Scalars: raw points at the value's bytes. Strings: raw/size are
// the bytes. Arrays: elem_type, count, and raw/size span all the elements.
struct Value {
    ValueType type = ValueType::U8;
    ValueType elem_type = ValueType::U8;  // arrays only
    uint64_t count = 0;                   // arrays only
    const uint8_t *raw = nullptr;
    uint64_t size = 0;
};

struct KeyValue {
    std::string_view key;
    Value value;
};

// Sequential reader of an array of strings (validated by parse()).
struct StringCursor {
    const uint8_t *p = nullptr;
    const uint8_t *end = nullptr;
    uint64_t left = 0;
    bool next(std::string_view &out);  // false at the end
};

// A typed view of an array value. Element getters fail on a type mismatch or i >= count.
struct Array {
    ValueType elem_type = ValueType::U8;
    uint64_t count = 0;
    const uint8_t *raw = nullptr;
    uint64_t size = 0;
    bool get_u8(uint64_t i, uint8_t &out) const;
    bool get_i8(uint64_t i, int8_t &out) const;
    bool get_u32(uint64_t i, uint32_t &out) const;
    bool get_i32(uint64_t i, int32_t &out) const;
    bool get_u64(uint64_t i, uint64_t &out) const;
    bool get_i64(uint64_t i, int64_t &out) const;
    bool get_f32(uint64_t i, float &out) const;
    bool get_bool(uint64_t i, bool &out) const;
    // Element i of a string array: walks from the start (O(i)); use strings() to read them all.
    bool get_string(uint64_t i, std::string_view &out) const;
    // A cursor over a string array; an empty one for other element types.
    StringCursor strings() const;
};

struct Tensor {
    std::string_view name;
    uint32_t type = 0;
    uint32_t n_dims = 0;
    int64_t ne[kMaxDims] = {1, 1, 1, 1};  // innermost first; unused dimensions are 1
    int64_t n_elements = 0;
    uint64_t offset = 0;  // byte offset into the file image
    uint64_t size = 0;    // bytes
    uint64_t row_bytes = 0;  // bytes of one row of ne[0] values
    const uint8_t *data = nullptr;
    int64_t n_rows() const { return n_elements / ne[0]; }
};

class File {
public:
    // Parses and validates the image. On failure returns false, sets err ("gguf: ...") and leaves
    // the File empty.
    bool parse(const uint8_t *data, size_t size, std::string &err);

    uint32_t version() const { return version_; }
    uint64_t alignment() const { return alignment_; }
    uint64_t data_offset() const { return data_offset_; }  // start of the data section

    size_t n_keys() const { return kvs_.size(); }
    const KeyValue &key(size_t i) const { return kvs_[i]; }  // file order
    const KeyValue *find(std::string_view key) const;

    // Typed getters: false when the key is missing or has another type (err, when given, says
    // which). get_uint/get_int accept any integer type whose value fits.
    bool get_u32(std::string_view key, uint32_t &out, std::string *err = nullptr) const;
    bool get_i32(std::string_view key, int32_t &out, std::string *err = nullptr) const;
    bool get_u64(std::string_view key, uint64_t &out, std::string *err = nullptr) const;
    bool get_f32(std::string_view key, float &out, std::string *err = nullptr) const;
    bool get_bool(std::string_view key, bool &out, std::string *err = nullptr) const;
    bool get_string(std::string_view key, std::string_view &out, std::string *err = nullptr) const;
    bool get_array(std::string_view key, Array &out, std::string *err = nullptr) const;
    bool get_uint(std::string_view key, uint64_t &out, std::string *err = nullptr) const;
    bool get_int(std::string_view key, int64_t &out, std::string *err = nullptr) const;

    size_t n_tensors() const { return tensors_.size(); }
    const Tensor &tensor(size_t i) const { return tensors_[i]; }  // file order
    const Tensor *find_tensor(std::string_view name) const;

private:
    const KeyValue *find_typed(std::string_view key, ValueType t, std::string *err) const;
    void clear();

    const uint8_t *data_ = nullptr;
    size_t size_ = 0;
    uint32_t version_ = 0;
    uint64_t alignment_ = kDefaultAlignment;
    uint64_t data_offset_ = 0;
    std::vector<KeyValue> kvs_;
    std::vector<uint32_t> kv_sorted_;  // indices of kvs_ by key
    std::vector<Tensor> tensors_;
    std::vector<uint32_t> tensor_sorted_;  // indices of tensors_ by name
};

}  // namespace bf::llm::gguf
