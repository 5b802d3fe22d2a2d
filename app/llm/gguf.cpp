// GGUF reader: see gguf.h. Every read goes through Reader, which checks the remaining bytes
// first; every count is compared with what the rest of the file could hold before anything is
// allocated for it.
#include "llm/gguf.h"

#include <string.h>

#include <algorithm>

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "GGUF is read in place: little endian only");

namespace bf::llm::gguf {

namespace {

// ggml's type table by id (ggml.h / ggml.c type_traits); block_size 0: known to ggml but not
// supported here. Removed ids keep their old names.
constexpr TypeTraits kTypes[] = {
    {"f32", 1, 4},        // 0
    {"f16", 1, 2},        // 1
    {"q4_0", 32, 18},     // 2
    {"q4_1", 32, 20},     // 3
    {"q4_2 (removed)", 0, 0},
    {"q4_3 (removed)", 0, 0},
    {"q5_0", 32, 22},     // 6
    {"q5_1", 32, 24},     // 7
    {"q8_0", 32, 34},     // 8
    {"q8_1", 0, 0},       // 9
    {"q2_K", 256, 84},    // 10
    {"q3_K", 256, 110},   // 11
    {"q4_K", 256, 144},   // 12
    {"q5_K", 256, 176},   // 13
    {"q6_K", 256, 210},   // 14
    {"q8_K", 0, 0},       // 15
    {"iq2_xxs", 0, 0},    // 16
    {"iq2_xs", 0, 0},     // 17
    {"iq3_xxs", 0, 0},    // 18
    {"iq1_s", 0, 0},      // 19
    {"iq4_nl", 0, 0},     // 20
    {"iq3_s", 0, 0},      // 21
    {"iq2_s", 0, 0},      // 22
    {"iq4_xs", 0, 0},     // 23
    {"i8", 0, 0},         // 24
    {"i16", 0, 0},        // 25
    {"i32", 0, 0},        // 26
    {"i64", 0, 0},        // 27
    {"f64", 0, 0},        // 28
    {"iq1_m", 0, 0},      // 29
    {"bf16", 1, 2},       // 30
    {"q4_0_4_4 (removed)", 0, 0},
    {"q4_0_4_8 (removed)", 0, 0},
    {"q4_0_8_8 (removed)", 0, 0},
    {"tq1_0", 0, 0},      // 34
    {"tq2_0", 0, 0},      // 35
    {"iq4_nl_4_4 (removed)", 0, 0},
    {"iq4_nl_4_8 (removed)", 0, 0},
    {"iq4_nl_8_8 (removed)", 0, 0},
    {"mxfp4", 0, 0},      // 39
    {"nvfp4", 0, 0},      // 40
    {"q1_0", 0, 0},       // 41
};
constexpr uint32_t kNumTypes = sizeof kTypes / sizeof kTypes[0];

// Byte size of one scalar of a metadata type; 0 for string, array and unknown types.
uint64_t scalar_size(uint32_t t) {
    switch (static_cast<ValueType>(t)) {
    case ValueType::U8: case ValueType::I8: case ValueType::Bool: return 1;
    case ValueType::U16: case ValueType::I16: return 2;
    case ValueType::U32: case ValueType::I32: case ValueType::F32: return 4;
    case ValueType::U64: case ValueType::I64: case ValueType::F64: return 8;
    default: return 0;
    }
}

std::string quoted(std::string_view s) {
    // Names come from the file: keep messages printable and short.
    std::string out = "'";
    size_t n = 0;
    for (unsigned char c : s) {
        if (++n > 80) { out += "..."; break; }
        if (c >= 0x20 && c < 0x7f) out += (char)c;
        else {
            static const char hex[] = "0123456789abcdef";
            out += "\\x";
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    return out + "'";
}

std::string num(uint64_t v) { return std::to_string(v); }

struct Reader {
    const uint8_t *data;
    size_t size;
    size_t pos = 0;

    size_t left() const { return size - pos; }
    bool bytes(void *out, size_t n) {
        if (n > left()) return false;
        memcpy(out, data + pos, n);
        pos += n;
        return true;
    }
    bool u32(uint32_t &v) { return bytes(&v, 4); }
    bool u64(uint64_t &v) { return bytes(&v, 8); }
    bool skip(uint64_t n) {
        if (n > left()) return false;
        pos += (size_t)n;
        return true;
    }
    // A GGUF string: the length is checked against the rest of the file.
    bool str(std::string_view &s) {
        uint64_t n;
        if (!u64(n) || n > left()) return false;
        s = std::string_view(reinterpret_cast<const char *>(data + pos), (size_t)n);
        pos += (size_t)n;
        return true;
    }
};

// Smallest encodings, for bounding counts by the rest of the file.
constexpr uint64_t kMinKvBytes = 8 + 4 + 1;          // empty key, type, one-byte value
constexpr uint64_t kMinTensorBytes = 8 + 4 + 4 + 8;  // empty name, n_dims = 0, type, offset

bool is_pow2(uint64_t v) { return v && !(v & (v - 1)); }

}  // namespace

const char *value_type_name(ValueType t) {
    switch (t) {
    case ValueType::U8: return "u8";
    case ValueType::I8: return "i8";
    case ValueType::U16: return "u16";
    case ValueType::I16: return "i16";
    case ValueType::U32: return "u32";
    case ValueType::I32: return "i32";
    case ValueType::F32: return "f32";
    case ValueType::Bool: return "bool";
    case ValueType::String: return "string";
    case ValueType::Array: return "array";
    case ValueType::U64: return "u64";
    case ValueType::I64: return "i64";
    case ValueType::F64: return "f64";
    }
    return "?";
}

const TypeTraits *type_traits(uint32_t type) {
    if (type >= kNumTypes || kTypes[type].block_size == 0) return nullptr;
    return &kTypes[type];
}

const char *type_name(uint32_t type) { return type < kNumTypes ? kTypes[type].name : nullptr; }

// ---- arrays ------------------------------------------------------------------------------------

bool StringCursor::next(std::string_view &out) {
    uint64_t n;
    if (left == 0 || (size_t)(end - p) < 8) return false;
    memcpy(&n, p, 8);
    if (n > (uint64_t)(end - p) - 8) return false;
    out = std::string_view(reinterpret_cast<const char *>(p + 8), (size_t)n);
    p += 8 + n;
    left--;
    return true;
}

namespace {
template <typename T>
bool array_get(const Array &a, ValueType want, uint64_t i, T &out) {
    if (a.elem_type != want || i >= a.count) return false;
    memcpy(&out, a.raw + i * sizeof(T), sizeof(T));
    return true;
}
}  // namespace

bool Array::get_u8(uint64_t i, uint8_t &out) const { return array_get(*this, ValueType::U8, i, out); }
bool Array::get_i8(uint64_t i, int8_t &out) const { return array_get(*this, ValueType::I8, i, out); }
bool Array::get_u32(uint64_t i, uint32_t &out) const { return array_get(*this, ValueType::U32, i, out); }
bool Array::get_i32(uint64_t i, int32_t &out) const { return array_get(*this, ValueType::I32, i, out); }
bool Array::get_u64(uint64_t i, uint64_t &out) const { return array_get(*this, ValueType::U64, i, out); }
bool Array::get_i64(uint64_t i, int64_t &out) const { return array_get(*this, ValueType::I64, i, out); }
bool Array::get_f32(uint64_t i, float &out) const { return array_get(*this, ValueType::F32, i, out); }
bool Array::get_bool(uint64_t i, bool &out) const {
    uint8_t b;
    if (!array_get(*this, ValueType::Bool, i, b)) return false;
    out = b != 0;
    return true;
}

StringCursor Array::strings() const {
    StringCursor c;
    if (elem_type != ValueType::String) return c;
    c.p = raw;
    c.end = raw + size;
    c.left = count;
    return c;
}

bool Array::get_string(uint64_t i, std::string_view &out) const {
    if (elem_type != ValueType::String || i >= count) return false;
    StringCursor c = strings();
    for (uint64_t k = 0; k <= i; k++)
        if (!c.next(out)) return false;
    return true;
}

// ---- parsing -----------------------------------------------------------------------------------

void File::clear() {
    data_ = nullptr;
    size_ = 0;
    version_ = 0;
    alignment_ = kDefaultAlignment;
    data_offset_ = 0;
    kvs_.clear();
    kv_sorted_.clear();
    tensors_.clear();
    tensor_sorted_.clear();
}

bool File::parse(const uint8_t *data, size_t size, std::string &err) {
    clear();
    auto fail = [&](std::string msg) {
        clear();
        err = "gguf: " + msg;
        return false;
    };
    if (!data && size) return fail("no data");
    Reader r{data, size};

    // Header.
    char magic[4];
    if (!r.bytes(magic, 4)) return fail("truncated header (file of " + num(size) + " bytes)");
    if (memcmp(magic, "GGUF", 4) != 0) return fail("bad magic (not a GGUF file)");
    uint32_t version;
    if (!r.u32(version)) return fail("truncated header (version)");
    if (version == 1) return fail("version 1 is not supported (32-bit counts; convert to v3)");
    if (version != 2 && version != 3) return fail("unsupported version " + num(version));
    uint64_t n_tensors, n_kv;
    if (!r.u64(n_tensors) || !r.u64(n_kv)) return fail("truncated header (counts)");
    if (n_kv > r.left() / kMinKvBytes)
        return fail("kv count " + num(n_kv) + " is larger than the file could hold");
    if (n_tensors > r.left() / kMinTensorBytes)
        return fail("tensor count " + num(n_tensors) + " is larger than the file could hold");
    if (n_kv > UINT32_MAX || n_tensors > UINT32_MAX) return fail("absurd counts");

    // Key/value pairs.
    kvs_.reserve((size_t)n_kv);
    for (uint64_t i = 0; i < n_kv; i++) {
        KeyValue kv;
        if (!r.str(kv.key)) return fail("truncated file in the key of kv " + num(i));
        const std::string k = quoted(kv.key);
        uint32_t t;
        if (!r.u32(t)) return fail("key " + k + ": truncated value type");
        kv.value.type = static_cast<ValueType>(t);
        if (t == (uint32_t)ValueType::String) {
            std::string_view s;
            if (!r.str(s)) return fail("key " + k + ": string runs past the end of the file");
            kv.value.raw = reinterpret_cast<const uint8_t *>(s.data());
            kv.value.size = s.size();
        } else if (t == (uint32_t)ValueType::Array) {
            uint32_t et;
            uint64_t count;
            if (!r.u32(et) || !r.u64(count)) return fail("key " + k + ": truncated array header");
            kv.value.elem_type = static_cast<ValueType>(et);
            kv.value.count = count;
            kv.value.raw = data + r.pos;
            const size_t start = r.pos;
            if (et == (uint32_t)ValueType::Array)
                return fail("key " + k + ": arrays of arrays are not supported");
            if (et == (uint32_t)ValueType::String) {
                if (count > r.left() / 8)
                    return fail("key " + k + ": array of " + num(count) +
                                " strings is larger than the rest of the file");
                for (uint64_t j = 0; j < count; j++) {
                    std::string_view s;
                    if (!r.str(s))
                        return fail("key " + k + ": string " + num(j) +
                                    " of the array runs past the end of the file");
                }
            } else {
                const uint64_t es = scalar_size(et);
                if (!es) return fail("key " + k + ": unknown array element type " + num(et));
                if (count > r.left() / es)
                    return fail("key " + k + ": array of " + num(count) +
                                " elements is larger than the rest of the file");
                if (et == (uint32_t)ValueType::Bool)
                    for (uint64_t j = 0; j < count; j++)
                        if (data[r.pos + j] > 1)
                            return fail("key " + k + ": bool element " + num(j) + " is " +
                                        num(data[r.pos + j]) + " (not 0 or 1)");
                r.skip(count * es);
            }
            kv.value.size = r.pos - start;
        } else {
            const uint64_t es = scalar_size(t);
            if (!es) return fail("key " + k + ": unknown value type " + num(t));
            kv.value.raw = data + r.pos;
            kv.value.size = es;
            if (!r.skip(es)) return fail("key " + k + ": truncated value");
            if (t == (uint32_t)ValueType::Bool && kv.value.raw[0] > 1)
                return fail("key " + k + ": bool value is " + num(kv.value.raw[0]) +
                            " (not 0 or 1)");
        }
        kvs_.push_back(kv);
    }
    kv_sorted_.resize(kvs_.size());
    for (size_t i = 0; i < kvs_.size(); i++) kv_sorted_[i] = (uint32_t)i;
    std::sort(kv_sorted_.begin(), kv_sorted_.end(),
              [&](uint32_t a, uint32_t b) { return kvs_[a].key < kvs_[b].key; });
    for (size_t i = 1; i < kv_sorted_.size(); i++)
        if (kvs_[kv_sorted_[i - 1]].key == kvs_[kv_sorted_[i]].key)
            return fail("duplicate key " + quoted(kvs_[kv_sorted_[i]].key));

    // Alignment of the data section.
    if (const KeyValue *a = find("general.alignment")) {
        if (a->value.type != ValueType::U32)
            return fail("key 'general.alignment' has type " +
                        std::string(value_type_name(a->value.type)) + ", expected u32");
        uint32_t v;
        memcpy(&v, a->value.raw, 4);
        if (!is_pow2(v) || v > kMaxAlignment)
            return fail("key 'general.alignment' is " + num(v) +
                        " (must be a power of two, at most " + num(kMaxAlignment) + ")");
        alignment_ = v;
    }

    // Tensor infos.
    tensors_.reserve((size_t)n_tensors);
    for (uint64_t i = 0; i < n_tensors; i++) {
        Tensor t;
        if (!r.str(t.name)) return fail("truncated file in the name of tensor " + num(i));
        const std::string n = quoted(t.name);
        if (!r.u32(t.n_dims)) return fail("tensor " + n + ": truncated");
        if (t.n_dims > kMaxDims)
            return fail("tensor " + n + ": " + num(t.n_dims) + " dimensions (at most 4)");
        for (uint32_t d = 0; d < t.n_dims; d++) {
            uint64_t v;
            if (!r.u64(v)) return fail("tensor " + n + ": truncated");
            if (v == 0) return fail("tensor " + n + ": dimension " + num(d) + " is zero");
            if (v > (uint64_t)INT64_MAX)
                return fail("tensor " + n + ": dimension " + num(d) + " is negative");
            t.ne[d] = (int64_t)v;
        }
        if (!r.u32(t.type)) return fail("tensor " + n + ": truncated");
        uint64_t rel;
        if (!r.u64(rel)) return fail("tensor " + n + ": truncated");
        t.offset = rel;  // relative until the data section is known

        const TypeTraits *tt = type_traits(t.type);
        if (!tt) {
            if (const char *name = type_name(t.type))
                return fail("tensor " + n + ": unsupported type " + name + " (id " +
                            num(t.type) + ")");
            return fail("tensor " + n + ": unknown type id " + num(t.type));
        }
        int64_t ne = 1;
        for (uint32_t d = 0; d < kMaxDims; d++)
            if (__builtin_mul_overflow(ne, t.ne[d], &ne))
                return fail("tensor " + n + ": element count overflows");
        t.n_elements = ne;
        if (t.ne[0] % tt->block_size)
            return fail("tensor " + n + ": row of " + num((uint64_t)t.ne[0]) +
                        " values is not a multiple of the " + tt->name + " block size " +
                        num(tt->block_size));
        int64_t bytes;
        if (__builtin_mul_overflow(t.ne[0] / tt->block_size, (int64_t)tt->block_bytes, &bytes))
            return fail("tensor " + n + ": byte size overflows");
        t.row_bytes = (uint64_t)bytes;
        for (uint32_t d = 1; d < kMaxDims; d++)
            if (__builtin_mul_overflow(bytes, t.ne[d], &bytes))
                return fail("tensor " + n + ": byte size overflows");
        t.size = (uint64_t)bytes;
        tensors_.push_back(t);
    }

    // Data section and tensor placement.
    const uint64_t end_of_infos = r.pos;
    data_offset_ = (end_of_infos + alignment_ - 1) / alignment_ * alignment_;
    if (!tensors_.empty() && data_offset_ > size)
        return fail("the data section (at " + num(data_offset_) + ") starts past the end of the file");
    const uint64_t data_size = tensors_.empty() ? 0 : size - data_offset_;
    for (Tensor &t : tensors_) {
        const std::string n = quoted(t.name);
        if (t.offset % alignment_)
            return fail("tensor " + n + ": offset " + num(t.offset) + " is not a multiple of the alignment " +
                        num(alignment_));
        if (t.offset > data_size || t.size > data_size - t.offset)
            return fail("tensor " + n + ": bytes [" + num(t.offset) + ", +" + num(t.size) +
                        ") lie outside the data section of " + num(data_size) + " bytes");
        t.offset += data_offset_;
        t.data = data + t.offset;
    }
    tensor_sorted_.resize(tensors_.size());
    for (size_t i = 0; i < tensors_.size(); i++) tensor_sorted_[i] = (uint32_t)i;
    // Overlap: sorted by offset, each tensor must end before the next starts.
    std::sort(tensor_sorted_.begin(), tensor_sorted_.end(), [&](uint32_t a, uint32_t b) {
        return tensors_[a].offset < tensors_[b].offset;
    });
    for (size_t i = 1; i < tensor_sorted_.size(); i++) {
        const Tensor &a = tensors_[tensor_sorted_[i - 1]], &b = tensors_[tensor_sorted_[i]];
        if (a.offset + a.size > b.offset)
            return fail("tensor " + quoted(b.name) + " overlaps tensor " + quoted(a.name));
    }
    std::sort(tensor_sorted_.begin(), tensor_sorted_.end(),
              [&](uint32_t a, uint32_t b) { return tensors_[a].name < tensors_[b].name; });
    for (size_t i = 1; i < tensor_sorted_.size(); i++)
        if (tensors_[tensor_sorted_[i - 1]].name == tensors_[tensor_sorted_[i]].name)
            return fail("duplicate tensor name " + quoted(tensors_[tensor_sorted_[i]].name));

    data_ = data;
    size_ = size;
    version_ = version;
    return true;
}

// ---- lookups -----------------------------------------------------------------------------------

const KeyValue *File::find(std::string_view key) const {
    auto it = std::lower_bound(kv_sorted_.begin(), kv_sorted_.end(), key,
                               [&](uint32_t i, std::string_view k) { return kvs_[i].key < k; });
    if (it == kv_sorted_.end() || kvs_[*it].key != key) return nullptr;
    return &kvs_[*it];
}

const Tensor *File::find_tensor(std::string_view name) const {
    auto it = std::lower_bound(tensor_sorted_.begin(), tensor_sorted_.end(), name,
                               [&](uint32_t i, std::string_view k) { return tensors_[i].name < k; });
    if (it == tensor_sorted_.end() || tensors_[*it].name != name) return nullptr;
    return &tensors_[*it];
}

const KeyValue *File::find_typed(std::string_view key, ValueType t, std::string *err) const {
    const KeyValue *kv = find(key);
    if (!kv) {
        if (err) *err = "gguf: key " + quoted(key) + " is missing";
        return nullptr;
    }
    if (kv->value.type != t) {
        if (err)
            *err = "gguf: key " + quoted(key) + " has type " + value_type_name(kv->value.type) +
                   ", expected " + value_type_name(t);
        return nullptr;
    }
    return kv;
}

namespace {
template <typename T>
bool scalar(const KeyValue *kv, T &out) {
    if (!kv) return false;
    memcpy(&out, kv->value.raw, sizeof(T));
    return true;
}
}  // namespace

bool File::get_u32(std::string_view key, uint32_t &out, std::string *err) const {
    return scalar(find_typed(key, ValueType::U32, err), out);
}
bool File::get_i32(std::string_view key, int32_t &out, std::string *err) const {
    return scalar(find_typed(key, ValueType::I32, err), out);
}
bool File::get_u64(std::string_view key, uint64_t &out, std::string *err) const {
    return scalar(find_typed(key, ValueType::U64, err), out);
}
bool File::get_f32(std::string_view key, float &out, std::string *err) const {
    return scalar(find_typed(key, ValueType::F32, err), out);
}
bool File::get_bool(std::string_view key, bool &out, std::string *err) const {
    uint8_t b;
    if (!scalar(find_typed(key, ValueType::Bool, err), b)) return false;
    out = b != 0;
    return true;
}
bool File::get_string(std::string_view key, std::string_view &out, std::string *err) const {
    const KeyValue *kv = find_typed(key, ValueType::String, err);
    if (!kv) return false;
    out = std::string_view(reinterpret_cast<const char *>(kv->value.raw), (size_t)kv->value.size);
    return true;
}
bool File::get_array(std::string_view key, Array &out, std::string *err) const {
    const KeyValue *kv = find_typed(key, ValueType::Array, err);
    if (!kv) return false;
    out.elem_type = kv->value.elem_type;
    out.count = kv->value.count;
    out.raw = kv->value.raw;
    out.size = kv->value.size;
    return true;
}

bool File::get_int(std::string_view key, int64_t &out, std::string *err) const {
    const KeyValue *kv = find(key);
    if (!kv) {
        if (err) *err = "gguf: key " + quoted(key) + " is missing";
        return false;
    }
    const uint8_t *p = kv->value.raw;
    switch (kv->value.type) {
    case ValueType::U8: out = p[0]; return true;
    case ValueType::I8: out = (int8_t)p[0]; return true;
    case ValueType::U16: { uint16_t v; memcpy(&v, p, 2); out = v; return true; }
    case ValueType::I16: { int16_t v; memcpy(&v, p, 2); out = v; return true; }
    case ValueType::U32: { uint32_t v; memcpy(&v, p, 4); out = v; return true; }
    case ValueType::I32: { int32_t v; memcpy(&v, p, 4); out = v; return true; }
    case ValueType::I64: { memcpy(&out, p, 8); return true; }
    case ValueType::U64: {
        uint64_t v;
        memcpy(&v, p, 8);
        if (v <= (uint64_t)INT64_MAX) { out = (int64_t)v; return true; }
        if (err) *err = "gguf: key " + quoted(key) + " is " + num(v) + ", too large";
        return false;
    }
    default: break;
    }
    if (err)
        *err = "gguf: key " + quoted(key) + " has type " + value_type_name(kv->value.type) +
               ", expected an integer";
    return false;
}

bool File::get_uint(std::string_view key, uint64_t &out, std::string *err) const {
    const KeyValue *kv = find(key);
    if (kv && kv->value.type == ValueType::U64) return scalar(kv, out);
    int64_t v;
    if (!get_int(key, v, err)) return false;
    if (v < 0) {
        if (err) *err = "gguf: key " + quoted(key) + " is negative (" + std::to_string(v) + ")";
        return false;
    }
    out = (uint64_t)v;
    return true;
}

}  // namespace bf::llm::gguf
