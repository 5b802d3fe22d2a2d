// Monotonic time from the TSC since kernel entry; wall-clock time from the CMOS RTC at boot.
#include "../arch/x86_64/cpu.h"
#include "bareflow/kernel.h"
#include "tsc.h"

namespace bf {

namespace {

uint64_t tsc0, realtime0;

uint8_t cmos(uint8_t reg) {
    cpu::outb(0x70, reg);  // NMI stays enabled (bit 7 clear)
    return cpu::inb(0x71);
}

// Days since 1970-01-01 of a civil date (proleptic Gregorian).
int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = unsigned(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + int64_t(doe) - 719468;
}

uint64_t read_rtc() {
    for (int i = 0; i < 1000000 && (cmos(0x0A) & 0x80); i++) {  // wait out an update
    }
    uint8_t s = cmos(0), mi = cmos(2), h = cmos(4), d = cmos(7), mo = cmos(8), y = cmos(9),
            c = cmos(0x32), b = cmos(0x0B);
    auto bin = [&](uint8_t v) { return (b & 4) ? v : uint8_t((v >> 4) * 10 + (v & 15)); };
    bool pm = !(b & 2) && (h & 0x80);
    h = bin(uint8_t(h & 0x7F));
    if (!(b & 2)) h = uint8_t(h % 12 + (pm ? 12 : 0));  // 12-hour mode
    unsigned year = bin(y) + (c && c != 0xFF ? bin(c) * 100u : 2000u);
    unsigned month = bin(mo), day = bin(d);
    if (month < 1 || month > 12 || day < 1 || day > 31 || year < 1970) return 0;
    int64_t days = days_from_civil(year, month, day);
    return (uint64_t(days) * 86400 + h * 3600ull + bin(mi) * 60ull + bin(s)) * 1000000000ull;
}

}  // namespace

void clock_init(uint64_t tsc_at_entry) {
    tsc0 = tsc_at_entry;
    if (bare_metal()) realtime0 = read_rtc();
}

uint64_t monotonic_ns() {
    uint64_t t = cpu::rdtsc() - tsc0, hz = tsc_hz();
    return hz ? (t / hz) * 1000000000ull + (t % hz) * 1000000000ull / hz : 0;
}

uint64_t realtime_at_boot_ns() { return realtime0; }

}  // namespace bf
