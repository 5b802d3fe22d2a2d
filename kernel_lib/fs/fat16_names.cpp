// FAT16 engine, names: 8.3 and VFAT long names (UTF-16 on disk, UTF-8 in the API), case-folded
// comparison, the long-name checksum, and the code page of short names written by other tools.
#include "fat16_internal.h"

namespace bf::fs {
namespace detail {  // declared in fat16_internal.h

// Code page 850 (what mtools uses), 0x80..0xFF, for short names written by other tools.
const uint16_t kCp850[128] = {
    0x00C7, 0x00FC, 0x00E9, 0x00E2, 0x00E4, 0x00E0, 0x00E5, 0x00E7, 0x00EA, 0x00EB, 0x00E8, 0x00EF,
    0x00EE, 0x00EC, 0x00C4, 0x00C5, 0x00C9, 0x00E6, 0x00C6, 0x00F4, 0x00F6, 0x00F2, 0x00FB, 0x00F9,
    0x00FF, 0x00D6, 0x00DC, 0x00F8, 0x00A3, 0x00D8, 0x00D7, 0x0192, 0x00E1, 0x00ED, 0x00F3, 0x00FA,
    0x00F1, 0x00D1, 0x00AA, 0x00BA, 0x00BF, 0x00AE, 0x00AC, 0x00BD, 0x00BC, 0x00A1, 0x00AB, 0x00BB,
    0x2591, 0x2592, 0x2593, 0x2502, 0x2524, 0x00C1, 0x00C2, 0x00C0, 0x00A9, 0x2563, 0x2551, 0x2557,
    0x255D, 0x00A2, 0x00A5, 0x2510, 0x2514, 0x2534, 0x252C, 0x251C, 0x2500, 0x253C, 0x00E3, 0x00C3,
    0x255A, 0x2554, 0x2569, 0x2566, 0x2560, 0x2550, 0x256C, 0x00A4, 0x00F0, 0x00D0, 0x00CA, 0x00CB,
    0x00C8, 0x0131, 0x00CD, 0x00CE, 0x00CF, 0x2518, 0x250C, 0x2588, 0x2584, 0x00A6, 0x00CC, 0x2580,
    0x00D3, 0x00DF, 0x00D4, 0x00D2, 0x00F5, 0x00D5, 0x00B5, 0x00FE, 0x00DE, 0x00DA, 0x00DB, 0x00D9,
    0x00FD, 0x00DD, 0x00AF, 0x00B4, 0x00AD, 0x00B1, 0x2017, 0x00BE, 0x00B6, 0x00A7, 0x00F7, 0x00B8,
    0x00B0, 0x00A8, 0x00B7, 0x00B9, 0x00B3, 0x00B2, 0x25A0, 0x00A0};

// Byte offsets of the 13 UTF-16 characters in a long-name slot.
const uint8_t kLfnPos[13] = {1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30};

// Case folding for matching: ASCII and Latin-1 letters.
uint16_t fold(uint16_t u) {
    if (u >= 'a' && u <= 'z') return uint16_t(u - 32);
    if (u >= 0xE0 && u <= 0xFE && u != 0xF7) return uint16_t(u - 32);
    return u;
}

bool eq_fold(const uint16_t *a, uint32_t na, const uint16_t *b, uint32_t nb) {
    if (na != nb) return false;
    for (uint32_t i = 0; i < na; i++)
        if (fold(a[i]) != fold(b[i])) return false;
    return true;
}

bool eq_exact(const uint16_t *a, uint32_t na, const uint16_t *b, uint32_t nb) {
    if (na != nb) return false;
    for (uint32_t i = 0; i < na; i++)
        if (a[i] != b[i]) return false;
    return true;
}

uint8_t lfn_checksum(const uint8_t *name11) {
    uint8_t sum = 0;
    for (int i = 0; i < 11; i++) sum = uint8_t(((sum & 1) << 7) + (sum >> 1) + name11[i]);
    return sum;
}

// Characters allowed in a short name besides A-Z and 0-9.
bool short_char(uint16_t u) {
    if ((u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9')) return true;
    const char *ok = "$%'-_@~`!(){}^#&";
    for (; *ok; ok++)
        if (u == uint16_t(*ok)) return true;
    return false;
}

bool forbidden(uint32_t cp) {
    if (cp < 0x20) return true;
    const char *bad = "\"*/:<>?\\|";
    for (; *bad; bad++)
        if (cp == uint32_t(*bad)) return true;
    return false;
}

// A short entry's name as shown ("README.TXT"); lower: honour the NT lower-case flags.
uint32_t short_to16(const uint8_t *raw, uint16_t *out, bool lower) {
    uint32_t n = 0;
    int bl = 8, el = 3;
    while (bl > 0 && raw[bl - 1] == ' ') bl--;
    while (el > 0 && raw[8 + el - 1] == ' ') el--;
    for (int i = 0; i < bl + 1 + el; i++) {
        if (i == bl) {
            if (el) out[n++] = '.';
            continue;
        }
        const bool ext = i > bl;
        uint8_t b = ext ? raw[8 + (i - bl - 1)] : raw[i];
        if (i == 0 && b == 0x05) b = 0xE5;
        uint16_t u = b < 0x80 ? b : kCp850[b - 0x80];
        if (lower && u >= 'A' && u <= 'Z' && (raw[12] & (ext ? 0x10 : 0x08))) u = uint16_t(u + 32);
        out[n++] = u;
    }
    return n;
}

// UTF-16 to UTF-8 (NUL-terminated); -1 if it does not fit or is not valid.
int utf16_to_8(const uint16_t *s, uint32_t n, char *out, uint32_t cap) {
    uint32_t o = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t cp = s[i];
        if (cp >= 0xD800 && cp <= 0xDBFF) {
            if (i + 1 >= n || s[i + 1] < 0xDC00 || s[i + 1] > 0xDFFF) return -1;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (s[i + 1] - 0xDC00);
            i++;
        } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            return -1;
        }
        if (cp == 0 || cp == '/') return -1;
        const uint32_t k = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
        if (o + k + 1 > cap) return -1;
        if (k == 1) {
            out[o++] = char(cp);
        } else if (k == 2) {
            out[o++] = char(0xC0 | (cp >> 6));
            out[o++] = char(0x80 | (cp & 0x3F));
        } else if (k == 3) {
            out[o++] = char(0xE0 | (cp >> 12));
            out[o++] = char(0x80 | ((cp >> 6) & 0x3F));
            out[o++] = char(0x80 | (cp & 0x3F));
        } else {
            out[o++] = char(0xF0 | (cp >> 18));
            out[o++] = char(0x80 | ((cp >> 12) & 0x3F));
            out[o++] = char(0x80 | ((cp >> 6) & 0x3F));
            out[o++] = char(0x80 | (cp & 0x3F));
        }
    }
    out[o] = 0;
    return int(o);
}

}  // namespace detail
using namespace detail;

// ---- names ---------------------------------------------------------------------------------

// A path component (UTF-8) into name16_. creating: also reject what FAT cannot store.
int Volume::name_to16(const char *str, uint32_t len, bool creating) {
    const uint8_t *s = reinterpret_cast<const uint8_t *>(str);
    uint32_t n = 0, i = 0;
    while (i < len) {
        uint32_t cp = s[i], k = 1;
        if (cp >= 0x80) {
            if ((cp & 0xE0) == 0xC0) { k = 2; cp &= 0x1F; }
            else if ((cp & 0xF0) == 0xE0) { k = 3; cp &= 0x0F; }
            else if ((cp & 0xF8) == 0xF0) { k = 4; cp &= 0x07; }
            else return Msg(err_).s("name is not valid UTF-8").ret(-kEINVAL);
            if (i + k > len) return Msg(err_).s("name is not valid UTF-8").ret(-kEINVAL);
            for (uint32_t j = 1; j < k; j++) {
                if ((s[i + j] & 0xC0) != 0x80)
                    return Msg(err_).s("name is not valid UTF-8").ret(-kEINVAL);
                cp = (cp << 6) | (s[i + j] & 0x3F);
            }
            if ((k == 2 && cp < 0x80) || (k == 3 && cp < 0x800) || (k == 4 && cp < 0x10000) ||
                cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
                return Msg(err_).s("name is not valid UTF-8").ret(-kEINVAL);
        }
        if (creating && forbidden(cp))
            return Msg(err_).s("name contains a character FAT does not allow").ret(-kEINVAL);
        if (n + (cp >= 0x10000 ? 2 : 1) > 255)
            return Msg(err_).s("name is longer than 255 characters").ret(-kENAMETOOLONG);
        if (cp >= 0x10000) {
            name16_[n++] = uint16_t(0xD800 + ((cp - 0x10000) >> 10));
            name16_[n++] = uint16_t(0xDC00 + ((cp - 0x10000) & 0x3FF));
        } else {
            name16_[n++] = uint16_t(cp);
        }
        i += k;
    }
    name_len_ = n;
    if (n == 0) return Msg(err_).s("empty name").ret(-kEINVAL);
    if (creating && (name16_[n - 1] == '.' || name16_[n - 1] == ' '))
        return Msg(err_).s("name ends with a dot or a space").ret(-kEINVAL);
    return 0;
}

}  // namespace bf::fs
