#pragma once
namespace app {
int run_selftest();          // 0 when every check passed
int run_alloc_exhaustion();
int run_fault();
int run_write_text();         // a write into the program's code: bare metal panics (W^X)
int run_stdin_echo();        // echoes stdin lines with their lengths until end of file             // a null-pointer write: bare metal panics with a backtrace  // bare metal: allocate until malloc says no, then recover
}
