// A printf subset with no libc underneath: kernel_lib prints before glibc is initialized
// (banner, panic reports), so it cannot use snprintf.
#include "bareflow/kernel.h"
#include "console.h"

namespace bf {

namespace {

struct Out {
    char *buf;
    size_t cap, len = 0;
    void put(char c) {
        if (len + 1 < cap) buf[len] = c;
        len++;
    }
};

void put_uint(Out &o, unsigned long long v, unsigned base, bool upper, int width, char pad,
              bool left, bool neg) {
    char tmp[24];
    int n = 0;
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    do {
        tmp[n++] = digits[v % base];
        v /= base;
    } while (v);
    int len = n + (neg ? 1 : 0);
    if (neg && pad == '0') o.put('-');
    if (!left)
        for (int i = len; i < width; i++) o.put(pad);
    if (neg && pad != '0') o.put('-');
    while (n) o.put(tmp[--n]);
    if (left)
        for (int i = len; i < width; i++) o.put(' ');
}

}  // namespace

int kvsnprintf(char *buf, size_t cap, const char *fmt, va_list ap) {
    Out o{buf, cap};
    for (const char *p = fmt; *p; p++) {
        if (*p != '%') {
            o.put(*p);
            continue;
        }
        p++;
        bool left = false;
        char pad = ' ';
        for (; *p == '-' || *p == '0'; p++) {
            if (*p == '-') left = true;
            else pad = '0';
        }
        int width = 0;
        if (*p == '*') {
            width = va_arg(ap, int);
            p++;
        }
        for (; *p >= '0' && *p <= '9'; p++) width = width * 10 + (*p - '0');
        int longs = 0;
        for (; *p == 'l' || *p == 'z'; p++) longs = (*p == 'z') ? 2 : longs + 1;
        switch (*p) {
        case 'd':
        case 'i': {
            long long v = longs ? va_arg(ap, long long) : va_arg(ap, int);
            unsigned long long u = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;
            put_uint(o, u, 10, false, width, pad, left, v < 0);
            break;
        }
        case 'u':
        case 'x':
        case 'X': {
            unsigned long long v =
                longs ? va_arg(ap, unsigned long long) : va_arg(ap, unsigned int);
            put_uint(o, v, *p == 'u' ? 10 : 16, *p == 'X', width, pad, left, false);
            break;
        }
        case 'p':
            o.put('0');
            o.put('x');
            put_uint(o, (unsigned long long)va_arg(ap, void *), 16, false, 0, ' ', false, false);
            break;
        case 'c':
            o.put(char(va_arg(ap, int)));
            break;
        case 's': {
            const char *s = va_arg(ap, const char *);
            if (!s) s = "(null)";
            int n = 0;
            while (s[n]) n++;
            if (!left)
                for (int i = n; i < width; i++) o.put(' ');
            for (int i = 0; i < n; i++) o.put(s[i]);
            if (left)
                for (int i = n; i < width; i++) o.put(' ');
            break;
        }
        case '%':
            o.put('%');
            break;
        case '\0':
            p--;
            break;
        default:  // unknown conversion: show it rather than guess
            o.put('%');
            o.put(*p);
        }
    }
    if (cap) buf[o.len < cap ? o.len : cap - 1] = '\0';
    return int(o.len);
}

int kprintf(const char *fmt, ...) {
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    int n = kvsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    console_write(buf, size_t(n) < sizeof buf ? size_t(n) : sizeof buf - 1);
    return n;
}

}  // namespace bf
