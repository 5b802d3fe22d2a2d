#include "input.h"

#include "../arch/x86_64/cpu.h"
#include "bareflow/kernel.h"
#include "console.h"
#include "../syscall/syscall.h"

namespace bf {

namespace {

char line[kMaxInputLine + 1];  // the longest accepted line and its newline
size_t line_len, line_pos;     // a finished line is handed out from line_pos
size_t line_total;             // bytes typed into this line (above kMaxInputLine: too long)
bool line_ready, last_cr, shift, ctrl, caps, extended, kbd_checked, kbd_present;

// Scancode set 1 (what the controller's translation delivers), US layout.
const char kNormal[] = "\0\0331234567890-=\b\tqwertyuiop[]\n\0asdfghjkl;'`\0\\zxcvbnm,./\0*\0 ";
const char kShift[] = "\0\033!@#$%^&*()_+\b\tQWERTYUIOP{}\n\0ASDFGHJKL:\"~\0|ZXCVBNM<>?\0*\0 ";
constexpr uint8_t kLShift = 0x2A, kRShift = 0x36, kCtrl = 0x1D, kCapsLock = 0x3A, kRelease = 0x80;

int poll_keyboard() {
    if (!kbd_checked) {
        kbd_checked = true;
        kbd_present = cpu::inb(0x64) != 0xFF;  // no controller: the bus floats high
    }
    if (!kbd_present) return -1;
    uint8_t st = cpu::inb(0x64);
    if (!(st & 1)) return -1;
    uint8_t sc = cpu::inb(0x60);
    if (st & 0x20) return -1;  // mouse byte
    if (sc == 0xE0) {          // the next byte is an extended key (arrows, right Ctrl, keypad /...)
        extended = true;
        return -1;
    }
    const bool ext = extended, up = sc & kRelease;
    extended = false;
    sc &= uint8_t(~kRelease);
    if (sc == kCtrl) ctrl = !up;  // left (1D) or right (E0 1D) Ctrl
    if (ext) {  // of the E0 keys only keypad Enter and / type; E0 2A/AA are fake shifts
        if (up) return -1;
        return sc == 0x1C ? '\n' : sc == 0x35 ? '/' : -1;
    }
    if (sc == kLShift || sc == kRShift) {
        shift = !up;
    } else if (sc == kCapsLock && !up) {
        caps = !caps;
    }
    if (up || sc >= sizeof kNormal - 1) return -1;
    char c = (shift ? kShift : kNormal)[sc];
    if (caps && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))) c ^= 0x20;
    if (ctrl && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))) c &= 0x1F;  // Ctrl-D: EOF
    return c ? c : -1;
}

void echo(const char *s, size_t n) { console_write(s, n); }

bool is_control(char c) { return (uint8_t(c) < 0x20 && c != '\t') || c == 0x7F; }

// Control bytes echo as ^X (ESC as ^[), as a Unix terminal's ECHOCTL shows them.
void echo_byte(char c) {
    if (!is_control(c)) return echo(&c, 1);
    const char caret[2] = {'^', char(c ^ 0x40)};
    echo(caret, 2);
}

// Feeds one byte to the line discipline; true when it ended the line or signalled EOF.
bool feed(int c, bool &eof) {
    if (c == '\n' && last_cr) {  // CR LF from a terminal: one line end
        last_cr = false;
        return false;
    }
    last_cr = c == '\r';
    if (c == '\r' || c == '\n') {
        echo("\n", 1);
        if (line_total > kMaxInputLine) {  // refused whole: the program gets an empty line
            kprintf(BF_LINE_TOO_LONG, line_total);
            line_len = 0;
        }
        line_total = 0;
        line[line_len++] = '\n';
        return true;
    }
    if (c == 4 && line_len == 0) {  // Ctrl-D
        eof = true;
        return true;
    }
    if (c == 8 || c == 0x7F) {
        if (line_total > line_len) {  // erases a byte past the limit (never shown)
            line_total--;
        } else if (line_len) {
            line_total--;
            const bool two = is_control(line[--line_len]);
            echo(two ? "\b \b\b \b" : "\b \b", two ? 6 : 3);
        }
        return false;
    }
    // Other control bytes (NUL, ESC, ...) stay in the line: the program refuses such a line, as
    // it does hosted, rather than run what is left once they are gone.
    line_total++;
    if (line_len >= kMaxInputLine) return false;  // too long: counted, refused at Enter
    line[line_len++] = char(c);
    echo_byte(char(c));
    return false;
}

}  // namespace

size_t console_read(char *buf, size_t n) {
    if (!n) return 0;
    bool eof = false;
    if (!line_ready) {  // the program waits for a person: the end of a phase
        console_release();
        records_flush();
    }
    while (!line_ready) {
        int c = serial::getc_nowait();
        if (c < 0) c = poll_keyboard();
        if (c < 0) {
            syscall_wait_step();  // a pause that lets another core's system calls run
            continue;
        }
        if (feed(c, eof)) {
            if (eof) return 0;
            line_ready = true;
            line_pos = 0;
        }
    }
    size_t k = 0;
    while (k < n && line_pos < line_len) buf[k++] = line[line_pos++];
    if (line_pos == line_len) line_ready = false, line_len = 0;
    return k;
}

}  // namespace bf
