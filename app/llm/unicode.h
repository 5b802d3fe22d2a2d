// Unicode support for the GGUF tokenizers (vocab*.cpp): code point categories from a table
// generated at build time (gen_unicode.py over Debian's UnicodeData.txt + PropList.txt), UTF-8
// decoding with llama.cpp's rules for bad input, and GPT-2's byte <-> code point mapping.
#pragma once
#include <stddef.h>
#include <stdint.h>

#include <string>
#include <string_view>
#include <vector>

namespace bf::llm::unicode {

// Category flags of a code point: exactly one major general category (N, L, Z, M, P, S, C;
// unassigned code points are C) plus the White_Space property bit.
enum Flags : uint16_t {
    kNumber = 0x02,      // \p{N}
    kLetter = 0x04,      // \p{L}
    kSeparator = 0x08,   // \p{Z}
    kMark = 0x10,        // \p{M}
    kPunctuation = 0x20, // \p{P}
    kSymbol = 0x40,      // \p{S}
    kControl = 0x80,     // \p{C}
    kWhitespace = 0x100, // \s (White_Space)
};

// Flags of `cp`; code points above U+10FFFF get 0x01 ("undefined", no category).
uint16_t flags(uint32_t cp);

// Byte length of the UTF-8 sequence a lead byte announces, from its high nibble alone (1 for
// ASCII and stray continuation bytes, 2 for 0xC-, 3 for 0xE-, 4 for 0xF-): how llama.cpp splits
// text into initial symbols. The caller clamps it to what is left of the text.
inline size_t utf8_len(uint8_t lead) {
    static constexpr uint8_t kLen[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};
    return kLen[lead >> 4];
}

constexpr uint32_t kReplacement = 0xFFFD;

// Decodes text into code points the way llama.cpp does (so pre-tokenization matches it): a bad
// sequence (stray continuation byte, missing continuation, lead byte 0xF8+) becomes U+FFFD and
// consumes one byte; overlong forms and surrogates are decoded as they stand. One deviation:
// a 4-byte form above U+10FFFF also becomes U+FFFD (llama.cpp throws on it later).
void decode_utf8(std::string_view text, std::vector<uint32_t> &out);

// Appends the UTF-8 form of `cp` (<= U+10FFFF).
void append_utf8(uint32_t cp, std::string &out);

// True when `text` is well-formed UTF-8 (no overlongs, surrogates or values above U+10FFFF).
bool valid_utf8(std::string_view text);

// GPT-2's byte encoder: byte b as the code point that stands for it in byte-level BPE
// vocabularies (printable Latin-1 bytes stand for themselves, the other 68 map to U+0100...).
uint32_t byte_to_cp(uint8_t b);
// The inverse: the byte code point `cp` stands for, or -1 if it stands for none.
int cp_to_byte(uint32_t cp);

}  // namespace bf::llm::unicode
