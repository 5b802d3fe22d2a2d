// GGUF reader tests: one hostile file per class of malformed input (built by a small writer that
// can also write what the product's gguf_write.h refuses to, then broken) is refused with a
// message naming the problem. The shared files: gguf_shared_test.cpp.
#include <gtest/gtest.h>
#include <stdio.h>
#include <string.h>

#include <algorithm>
#include <string>
#include <vector>

#include "llm/gguf.h"

namespace gguf = bf::llm::gguf;
using gguf::ValueType;

namespace {


// ---- a small GGUF writer -----------------------------------------------------------------------

struct Bytes {
    std::vector<uint8_t> b;
    Bytes &raw(const void *p, size_t n) {
        const uint8_t *c = static_cast<const uint8_t *>(p);
        b.insert(b.end(), c, c + n);
        return *this;
    }
    Bytes &u8(uint8_t v) { return raw(&v, 1); }
    Bytes &u32(uint32_t v) { return raw(&v, 4); }
    Bytes &u64(uint64_t v) { return raw(&v, 8); }
    Bytes &f32(float v) { return raw(&v, 4); }
    Bytes &str(const std::string &s) { return u64(s.size()).raw(s.data(), s.size()); }
};

struct Kv {
    std::string key;
    uint32_t type;
    Bytes value;  // the encoded value after the type
};

struct TensorSpec {
    std::string name;
    std::vector<uint64_t> ne;
    uint32_t type = gguf::kF32;
    uint64_t offset = UINT64_MAX;  // UINT64_MAX: placed after the previous one, aligned
};

// Assembles a GGUF file from parts; counts can be overridden to lie.
struct Builder {
    uint32_t version = 3;
    uint64_t align = 32;  // layout alignment (set general.alignment yourself to change the reader's)
    std::vector<Kv> kvs;
    std::vector<TensorSpec> tensors;
    uint64_t n_kv_override = UINT64_MAX, n_tensors_override = UINT64_MAX;

    Builder &kv_u32(const std::string &k, uint32_t v) { kvs.push_back({k, 4, {}}); kvs.back().value.u32(v); return *this; }
    Builder &kv_i32(const std::string &k, int32_t v) { kvs.push_back({k, 5, {}}); kvs.back().value.u32((uint32_t)v); return *this; }
    Builder &kv_f32(const std::string &k, float v) { kvs.push_back({k, 6, {}}); kvs.back().value.f32(v); return *this; }
    Builder &kv_u64(const std::string &k, uint64_t v) { kvs.push_back({k, 10, {}}); kvs.back().value.u64(v); return *this; }
    Builder &kv_bool(const std::string &k, uint8_t v) { kvs.push_back({k, 7, {}}); kvs.back().value.u8(v); return *this; }
    Builder &kv_str(const std::string &k, const std::string &v) { kvs.push_back({k, 8, {}}); kvs.back().value.str(v); return *this; }
    Builder &kv_i32_array(const std::string &k, const std::vector<int32_t> &v) {
        kvs.push_back({k, 9, {}});
        kvs.back().value.u32(5).u64(v.size());
        for (int32_t x : v) kvs.back().value.u32((uint32_t)x);
        return *this;
    }
    Builder &kv_str_array(const std::string &k, const std::vector<std::string> &v) {
        kvs.push_back({k, 9, {}});
        kvs.back().value.u32(8).u64(v.size());
        for (const std::string &s : v) kvs.back().value.str(s);
        return *this;
    }
    Builder &kv_raw(const std::string &k, uint32_t type, const Bytes &v) { kvs.push_back({k, type, v}); return *this; }
    Builder &tensor(const std::string &name, std::vector<uint64_t> ne, uint32_t type = gguf::kF32,
                    uint64_t offset = UINT64_MAX) {
        tensors.push_back({name, std::move(ne), type, offset});
        return *this;
    }

    static uint64_t tensor_bytes(const TensorSpec &t) {
        const gguf::TypeTraits *tt = gguf::type_traits(t.type);
        if (!tt || t.ne.empty()) return tt ? tt->block_bytes : 4;
        uint64_t n = t.ne[0] / tt->block_size * tt->block_bytes;
        for (size_t d = 1; d < t.ne.size() && d < 4; d++) n *= t.ne[d];
        return n;
    }

    std::vector<uint8_t> build() const {
        Bytes f;
        f.raw("GGUF", 4).u32(version);
        f.u64(n_tensors_override != UINT64_MAX ? n_tensors_override : tensors.size());
        f.u64(n_kv_override != UINT64_MAX ? n_kv_override : kvs.size());
        for (const Kv &kv : kvs) {
            f.str(kv.key).u32(kv.type);
            f.raw(kv.value.b.data(), kv.value.b.size());
        }
        uint64_t next = 0, end = 0;
        std::vector<uint64_t> offs;
        for (const TensorSpec &t : tensors) {
            const uint64_t off = t.offset != UINT64_MAX ? t.offset : (next + align - 1) / align * align;
            const uint64_t bytes = tensor_bytes(t);
            offs.push_back(off);
            if (off < (1ull << 16) && bytes < (1ull << 16)) {  // far-away explicit offsets get no data
                next = off + bytes;
                end = std::max(end, next);
            }
            f.str(t.name).u32((uint32_t)t.ne.size());
            for (uint64_t v : t.ne) f.u64(v);
            f.u32(t.type).u64(off);
        }
        while (f.b.size() % align) f.u8(0);
        const size_t data = f.b.size();
        f.b.resize(data + end);
        for (size_t i = 0; i < end; i++) f.b[data + i] = (uint8_t)(i * 7 + 1);
        return std::move(f.b);
    }
};

// A valid file using every feature, the base of the hostile variants.
Builder valid() {
    Builder b;
    b.kv_str("general.architecture", "llama")
        .kv_u32("llama.context_length", 128)
        .kv_i32("test.i32", -5)
        .kv_f32("llama.attention.layer_norm_rms_epsilon", 1e-5f)
        .kv_u64("test.u64", 1ull << 40)
        .kv_bool("test.bool", 1)
        .kv_i32_array("test.ints", {1, -2, 3})
        .kv_str_array("tokenizer.ggml.tokens", {"<unk>", "a", "", "bc"})
        .tensor("token_embd.weight", {64, 4})
        .tensor("blk.0.ffn_up.weight", {64, 2}, gguf::kQ8_0)
        .tensor("blk.0.ffn_down.weight", {256, 2}, gguf::kQ4_K)
        .tensor("norm", {64}, gguf::kF16);
    return b;
}

// Parses and expects failure with a message containing `want`.
void expect_refused(const std::vector<uint8_t> &img, const std::string &want) {
    gguf::File f;
    std::string err;
    EXPECT_FALSE(f.parse(img.data(), img.size(), err)) << "accepted; wanted: " << want;
    EXPECT_NE(err.find(want), std::string::npos) << "error: " << err << "\nwanted: " << want;
    EXPECT_EQ(f.n_keys(), 0u);
    EXPECT_EQ(f.n_tensors(), 0u);
}

}  // namespace

// ---- the writer's valid file -------------------------------------------------------------------

TEST(Gguf, ValidSyntheticFile) {
    const std::vector<uint8_t> img = valid().build();
    gguf::File f;
    std::string err;
    ASSERT_TRUE(f.parse(img.data(), img.size(), err)) << err;
    EXPECT_EQ(f.version(), 3u);
    EXPECT_EQ(f.alignment(), 32u);
    EXPECT_EQ(f.data_offset() % 32, 0u);
    EXPECT_EQ(f.n_keys(), 8u);
    EXPECT_EQ(f.key(0).key, "general.architecture");

    std::string_view s;
    ASSERT_TRUE(f.get_string("general.architecture", s));
    EXPECT_EQ(s, "llama");
    uint32_t u32;
    ASSERT_TRUE(f.get_u32("llama.context_length", u32));
    EXPECT_EQ(u32, 128u);
    int32_t i32;
    ASSERT_TRUE(f.get_i32("test.i32", i32));
    EXPECT_EQ(i32, -5);
    float f32;
    ASSERT_TRUE(f.get_f32("llama.attention.layer_norm_rms_epsilon", f32));
    EXPECT_EQ(f32, 1e-5f);
    uint64_t u64;
    ASSERT_TRUE(f.get_u64("test.u64", u64));
    EXPECT_EQ(u64, 1ull << 40);
    bool b;
    ASSERT_TRUE(f.get_bool("test.bool", b));
    EXPECT_TRUE(b);
    int64_t i64;
    ASSERT_TRUE(f.get_int("llama.context_length", i64));
    EXPECT_EQ(i64, 128);
    ASSERT_TRUE(f.get_int("test.i32", i64));
    EXPECT_EQ(i64, -5);
    ASSERT_TRUE(f.get_uint("test.u64", u64));
    EXPECT_FALSE(f.get_uint("test.i32", u64));

    gguf::Array a;
    ASSERT_TRUE(f.get_array("test.ints", a));
    EXPECT_EQ(a.count, 3u);
    ASSERT_TRUE(a.get_i32(1, i32));
    EXPECT_EQ(i32, -2);
    EXPECT_FALSE(a.get_i32(3, i32));
    EXPECT_FALSE(a.get_u32(0, u32));
    ASSERT_TRUE(f.get_array("tokenizer.ggml.tokens", a));
    EXPECT_EQ(a.elem_type, ValueType::String);
    std::vector<std::string> toks;
    gguf::StringCursor c = a.strings();
    while (c.next(s)) toks.emplace_back(s);
    EXPECT_EQ(toks, (std::vector<std::string>{"<unk>", "a", "", "bc"}));
    ASSERT_TRUE(a.get_string(3, s));
    EXPECT_EQ(s, "bc");
    EXPECT_FALSE(a.get_string(4, s));

    // Type mismatches and missing keys fail cleanly and say why.
    std::string why;
    EXPECT_FALSE(f.get_u32("test.u64", u32, &why));
    EXPECT_NE(why.find("'test.u64' has type u64, expected u32"), std::string::npos) << why;
    EXPECT_FALSE(f.get_string("llama.context_length", s, &why));
    EXPECT_FALSE(f.get_f32("test.i32", f32, &why));
    EXPECT_FALSE(f.get_bool("test.ints", b, &why));
    EXPECT_FALSE(f.get_array("general.architecture", a, &why));
    EXPECT_FALSE(f.get_int("general.architecture", i64, &why));
    EXPECT_FALSE(f.get_u32("no.such.key", u32, &why));
    EXPECT_NE(why.find("'no.such.key' is missing"), std::string::npos) << why;

    ASSERT_EQ(f.n_tensors(), 4u);
    const gguf::Tensor *t = f.find_tensor("blk.0.ffn_down.weight");
    ASSERT_NE(t, nullptr);
    EXPECT_EQ(t->type, gguf::kQ4_K);
    EXPECT_EQ(t->n_dims, 2u);
    EXPECT_EQ(t->ne[0], 256);
    EXPECT_EQ(t->ne[1], 2);
    EXPECT_EQ(t->ne[2], 1);
    EXPECT_EQ(t->size, 2u * 144u);
    EXPECT_EQ(t->row_bytes, 144u);
    EXPECT_EQ(t->n_rows(), 2);
    EXPECT_EQ(t->data, img.data() + t->offset);
    EXPECT_EQ((t->offset - f.data_offset()) % 32, 0u);
    t = f.find_tensor("norm");
    ASSERT_NE(t, nullptr);
    EXPECT_EQ(t->size, 128u);
    EXPECT_EQ(t->offset + t->size, img.size());
    EXPECT_EQ(f.find_tensor("nope"), nullptr);
    EXPECT_EQ(f.tensor(1).name, "blk.0.ffn_up.weight");
    EXPECT_EQ(f.tensor(1).size, 2u * 2u * 34u);
}

TEST(Gguf, Version2AndCustomAlignment) {
    Builder b = valid();
    b.version = 2;
    b.align = 64;
    b.kv_u32("general.alignment", 64);
    const std::vector<uint8_t> img = b.build();
    gguf::File f;
    std::string err;
    ASSERT_TRUE(f.parse(img.data(), img.size(), err)) << err;
    EXPECT_EQ(f.version(), 2u);
    EXPECT_EQ(f.alignment(), 64u);
    EXPECT_EQ(f.data_offset() % 64, 0u);
}

TEST(Gguf, NoTensorsNoDataSection) {
    Builder b;
    b.kv_str("general.architecture", "llama");
    std::vector<uint8_t> img = b.build();
    gguf::File f;
    std::string err;
    ASSERT_TRUE(f.parse(img.data(), img.size(), err)) << err;
    EXPECT_EQ(f.n_tensors(), 0u);
}

// ---- hostile files, one class each ---------------------------------------------------------------

TEST(GgufHostile, BadMagicAndVersions) {
    std::vector<uint8_t> img = valid().build();
    img[0] = 'X';
    expect_refused(img, "bad magic");
    Builder b = valid();
    b.version = 1;
    expect_refused(b.build(), "version 1 is not supported");
    b.version = 4;
    expect_refused(b.build(), "unsupported version 4");
    expect_refused({}, "truncated header");
}

TEST(GgufHostile, TruncatedAtEveryByte) {
    const std::vector<uint8_t> img = valid().build();
    gguf::File f;
    std::string err;
    ASSERT_TRUE(f.parse(img.data(), img.size(), err)) << err;
    for (size_t n = 0; n < img.size(); n++) {
        std::vector<uint8_t> cut(img.begin(), img.begin() + n);  // exact size: ASan sees overreads
        err.clear();
        EXPECT_FALSE(f.parse(cut.data(), cut.size(), err)) << "prefix of " << n << " bytes accepted";
        EXPECT_FALSE(err.empty());
    }
}

TEST(GgufHostile, MoreThanFourDimensions) {
    Builder b = valid();
    b.tensor("t5", {1, 1, 1, 1, 1});
    expect_refused(b.build(), "tensor 't5': 5 dimensions");
}

TEST(GgufHostile, ZeroDimension) {
    Builder b = valid();
    b.tensor("zero", {64, 0});
    expect_refused(b.build(), "tensor 'zero': dimension 1 is zero");
}

TEST(GgufHostile, NegativeDimension) {
    Builder b = valid();
    b.tensor("neg", {64, 0x8000000000000000ull});
    expect_refused(b.build(), "tensor 'neg': dimension 1 is negative");
}

TEST(GgufHostile, ElementCountOverflows) {
    Builder b = valid();
    b.tensor("huge", {1ull << 32, 1ull << 31, 2}, gguf::kF32, 0x100000);
    expect_refused(b.build(), "tensor 'huge': element count overflows");
    Builder c = valid();  // the element count fits in int64, the byte count does not
    c.tensor("huge2", {1ull << 31, 1ull << 31}, gguf::kF32, 0x100000);
    expect_refused(c.build(), "tensor 'huge2': byte size overflows");
    Builder d = valid();  // one row alone: 2^62 f32 values (found by the fuzzer)
    d.tensor("huge3", {1ull << 62}, gguf::kF32, 0x100000);
    expect_refused(d.build(), "tensor 'huge3': byte size overflows");
}

TEST(GgufHostile, BadAlignment) {
    for (uint32_t a : {0u, 48u, 3u, 1u << 21, 0x80000000u}) {
        Builder b = valid();
        b.kv_u32("general.alignment", a);
        expect_refused(b.build(), "key 'general.alignment' is " + std::to_string(a));
    }
    Builder b = valid();
    b.kv_u64("general.alignment", 32);
    expect_refused(b.build(), "key 'general.alignment' has type u64, expected u32");
}

TEST(GgufHostile, StringLargerThanFile) {
    Builder b = valid();
    Bytes v;
    v.u64(1u << 20).raw("abc", 3);
    b.kv_raw("long.string", 8, v);
    expect_refused(b.build(), "key 'long.string': string runs past the end of the file");

    // A key whose own length is absurd.
    std::vector<uint8_t> img = valid().build();
    const uint64_t huge = 0xffffffffffffff00ull;
    memcpy(img.data() + 24, &huge, 8);  // length of the first key
    expect_refused(img, "truncated file in the key of kv 0");

    Builder t = valid();  // a tensor name longer than the file
    std::vector<uint8_t> img2 = t.build();
    const std::string name = "token_embd.weight";
    auto it = std::search(img2.begin(), img2.end(), name.begin(), name.end());
    ASSERT_NE(it, img2.end());
    memcpy(&*(it - 8), &huge, 8);
    expect_refused(img2, "truncated file in the name of tensor 0");
}

TEST(GgufHostile, ArrayLargerThanFile) {
    Builder b = valid();
    Bytes v;
    v.u32(5).u64(1ull << 40).u32(1);
    b.kv_raw("big.ints", 9, v);
    expect_refused(b.build(), "key 'big.ints': array of 1099511627776 elements is larger");
    Builder c = valid();
    Bytes w;
    w.u32(8).u64(0x2000000000000000ull);
    c.kv_raw("big.strings", 9, w);
    expect_refused(c.build(), "key 'big.strings': array of 2305843009213693952 strings");
    Builder d = valid();  // a plausible count whose strings run off the end
    Bytes x;
    x.u32(8).u64(2).str("ok").u64(1u << 20);
    d.kv_raw("short.strings", 9, x);
    expect_refused(d.build(), "key 'short.strings': string 1 of the array runs past the end");
}

TEST(GgufHostile, CountsLargerThanFile) {
    Builder b = valid();
    b.n_tensors_override = 1ull << 40;
    expect_refused(b.build(), "tensor count 1099511627776 is larger than the file could hold");
    Builder c = valid();
    c.n_kv_override = 0xfffffffffffffffeull;
    expect_refused(c.build(), "kv count 18446744073709551614 is larger than the file could hold");
    Builder d = valid();  // plausible but wrong: the last kv is read from the tensor infos
    d.n_kv_override = d.kvs.size() + 1;
    gguf::File f;
    std::string err;
    const std::vector<uint8_t> img = d.build();
    EXPECT_FALSE(f.parse(img.data(), img.size(), err));
}

TEST(GgufHostile, TensorOutsideDataSection) {
    Builder b = valid();
    b.tensor("far", {64}, gguf::kF32, 1ull << 20);
    std::vector<uint8_t> img = b.build();
    expect_refused(img, "tensor 'far': bytes [1048576, +256) lie outside the data section");
    Builder c = valid();
    c.tensor("end", {64}, gguf::kF32, 0xffffffffffffffe0ull);
    expect_refused(c.build(), "tensor 'end': bytes [18446744073709551584, +256) lie outside");
    // The last tensor one byte short.
    std::vector<uint8_t> short_img = valid().build();
    short_img.pop_back();
    expect_refused(short_img, "tensor 'norm': bytes");
}

TEST(GgufHostile, OverlappingTensors) {
    Builder b = valid();
    b.tensor("a", {64}, gguf::kF32, 4096);
    b.tensor("b", {64}, gguf::kF32, 4096 + 224);
    expect_refused(b.build(), "tensor 'b' overlaps tensor 'a'");
    Builder c = valid();  // the same bytes twice
    c.tensor("c", {64}, gguf::kF32, 0);
    expect_refused(c.build(), "overlaps");
}

TEST(GgufHostile, UnalignedOffset) {
    Builder b = valid();
    b.tensor("odd", {64}, gguf::kF32, 2048 + 4);
    expect_refused(b.build(), "tensor 'odd': offset 2052 is not a multiple of the alignment 32");
}

TEST(GgufHostile, DuplicateTensorNames) {
    Builder b = valid();
    b.tensor("norm", {64}, gguf::kF32);
    expect_refused(b.build(), "duplicate tensor name 'norm'");
}

TEST(GgufHostile, DuplicateKeys) {
    Builder b = valid();
    b.kv_u32("llama.context_length", 256);
    expect_refused(b.build(), "duplicate key 'llama.context_length'");
}

TEST(GgufHostile, UnknownAndUnsupportedTensorTypes) {
    Builder b = valid();
    b.tensor("x", {256}, 99);
    expect_refused(b.build(), "tensor 'x': unknown type id 99");
    Builder c = valid();
    c.tensor("x", {256}, 16);
    expect_refused(c.build(), "tensor 'x': unsupported type iq2_xxs (id 16)");
    Builder d = valid();
    d.tensor("x", {256}, 4);
    expect_refused(d.build(), "tensor 'x': unsupported type q4_2 (removed) (id 4)");
    Builder e = valid();
    e.tensor("x", {256}, 0xffffffffu);
    expect_refused(e.build(), "unknown type id 4294967295");
}

TEST(GgufHostile, UnknownValueTypes) {
    Builder b = valid();
    b.kv_raw("odd.type", 13, Bytes().u32(0));
    expect_refused(b.build(), "key 'odd.type': unknown value type 13");
    Builder c = valid();
    c.kv_raw("odd.array", 9, Bytes().u32(77).u64(1).u32(0));
    expect_refused(c.build(), "key 'odd.array': unknown array element type 77");
    Builder d = valid();
    d.kv_raw("nested", 9, Bytes().u32(9).u64(1).u32(5).u64(0));
    expect_refused(d.build(), "key 'nested': arrays of arrays are not supported");
}

TEST(GgufHostile, BoolNotZeroOrOne) {
    Builder b = valid();
    b.kv_bool("bad.bool", 2);
    expect_refused(b.build(), "key 'bad.bool': bool value is 2");
    Builder c = valid();
    c.kv_raw("bad.bools", 9, Bytes().u32(7).u64(3).u8(0).u8(1).u8(255));
    expect_refused(c.build(), "key 'bad.bools': bool element 2 is 255");
}

TEST(GgufHostile, RowNotMultipleOfBlockSize) {
    Builder b = valid();
    b.tensor("q", {48, 2}, gguf::kQ4_0);
    expect_refused(b.build(), "tensor 'q': row of 48 values is not a multiple of the q4_0 block size 32");
    Builder c = valid();
    c.tensor("k", {64, 2}, gguf::kQ6_K);
    expect_refused(c.build(), "tensor 'k': row of 64 values is not a multiple of the q6_K block size 256");
}

TEST(GgufHostile, NamesInMessagesArePrintable) {
    Builder b = valid();
    b.kv_u32(std::string("bad\nkey\x01", 8), 1).kv_u32(std::string("bad\nkey\x01", 8), 2);
    expect_refused(b.build(), "duplicate key 'bad\\x0akey\\x01'");
}
