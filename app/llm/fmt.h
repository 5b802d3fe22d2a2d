// printf-style formatting into a std::string, for the loaders' error messages.
#pragma once
#include <stdarg.h>
#include <stdio.h>

#include <string>

namespace bf::llm {

std::string fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
inline std::string fmt(const char *f, ...) {
    char buf[512];
    va_list ap;
    va_start(ap, f);
    vsnprintf(buf, sizeof buf, f, ap);
    va_end(ap);
    return buf;
}

}  // namespace bf::llm
