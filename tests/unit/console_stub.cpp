// bf_llm outside the kernel ELF (unit tests, llm_cli, fuzz targets) has no kernel_lib: the console
// calls that generation and the JIT dispatch make, with the kernel's hosted behaviour (records on
// stderr, nothing held: stdout and stderr are separate streams there).
#include <stdio.h>

#include "bareflow/kernel.h"

namespace bf {

void record_write(const char *s, size_t n) { fwrite(s, 1, n, stderr); }
void console_hold() {}
void console_release() {}

}  // namespace bf
