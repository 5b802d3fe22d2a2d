// The sampling parameters' validator (params.h). Pure: no I/O, any bytes in.
#include "params.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

namespace bf::llm {

std::string shown(std::string_view v) {
    std::string o;
    for (size_t i = 0; i < v.size() && i < 40; i++) {
        const unsigned char c = static_cast<unsigned char>(v[i]);
        if (c < 0x20 || c == 0x7f) {
            char b[8];
            snprintf(b, sizeof b, "\\x%02x", c);
            o += b;
        } else {
            o += char(c);
        }
    }
    if (v.size() > 40) o += "...";
    return o;
}

namespace {

// strto* skip leading white space and stop at a NUL: both would accept more than the text shows.
bool plain(std::string_view v) {
    if (v.empty() || v[0] == ' ' || v[0] == '\t') return false;
    for (char c : v)
        if (c == '\0') return false;
    return true;
}

}  // namespace

bool parse_int(std::string_view v, int64_t lo, int64_t hi, int64_t &out, std::string &err) {
    const std::string s(v);
    char *end = nullptr;
    errno = 0;
    const long long x = plain(v) ? strtoll(s.c_str(), &end, 10) : 0;
    if (!plain(v) || *end) {
        err = "'" + shown(v) + "' is not an integer";
        return false;
    }
    if (errno == ERANGE || x < lo || x > hi) {
        err = "'" + shown(v) + "' is out of range [" + std::to_string(lo) + ", " + std::to_string(hi) + "]";
        return false;
    }
    out = x;
    return true;
}

bool parse_float(std::string_view v, float &out, std::string &err) {
    const std::string s(v);
    char *end = nullptr;
    // strtod, not strtof: a tiny value such as 1e-45 is a (denormal) float, which strtof flags
    // ERANGE; what matters is that the float is finite.
    const double x = plain(v) ? strtod(s.c_str(), &end) : 0;
    if (!plain(v) || *end || !isfinite(x) || !isfinite(float(x))) {
        err = "'" + shown(v) + "' is not a finite number";
        return false;
    }
    out = float(x);
    return true;
}

bool parse_steps(std::string_view v, int64_t &out, std::string &err) {
    return parse_int(v, 0, kMaxSteps, out, err);
}

bool parse_temperature(std::string_view v, float &out, std::string &err) {
    float f = 0;
    if (!parse_float(v, f, err)) return false;
    if (!temperature_ok(f)) {
        err = "'" + shown(v) + "' is negative (must be >= 0; 0 = greedy)";
        return false;
    }
    out = f;
    return true;
}

bool parse_topp(std::string_view v, float &out, std::string &err) {
    float f = 0;
    if (!parse_float(v, f, err)) return false;
    if (!topp_ok(f)) {
        err = "'" + shown(v) + "' is out of range [0, 1]";
        return false;
    }
    out = f;
    return true;
}

bool parse_seed(std::string_view v, uint64_t &out, std::string &err) {
    if (!v.empty() && v[0] == '-') {  // run.c's -s -1: from the clock
        int64_t neg = 0;
        if (!parse_int(v, INT64_MIN, -1, neg, err)) return false;
        out = 0;
        return true;
    }
    const std::string s(v);
    char *end = nullptr;
    errno = 0;
    const bool digits = plain(v) && v[0] >= '0' && v[0] <= '9';
    const unsigned long long x = digits ? strtoull(s.c_str(), &end, 10) : 0;
    if (!digits || *end) {
        err = "'" + shown(v) + "' is not an integer";
        return false;
    }
    if (errno == ERANGE) {
        err = "'" + shown(v) + "' is out of range (above 2^64-1)";
        return false;
    }
    out = x;
    return true;
}

}  // namespace bf::llm
