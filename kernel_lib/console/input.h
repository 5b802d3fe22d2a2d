// Console input on bare metal: COM1 and the PS/2 keyboard, polled, through a small canonical
// line discipline (echo, backspace, Enter ends a line, Ctrl-D on an empty line is end of file).
// Other control bytes are kept (echoed as ^X) for the program to refuse; a line longer than
// kMaxInputLine (kernel.h) is refused here with BF_LINE_TOO_LONG and arrives as an empty line.
#pragma once
#include <stddef.h>

namespace bf {
size_t console_read(char *buf, size_t n);  // blocks until a line is available; 0 = end of file
}  // namespace bf
