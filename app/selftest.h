#pragma once
namespace app {
int run_selftest();          // 0 when every check passed
int run_alloc_exhaustion();
int run_fault();             // a null-pointer write: bare metal panics with a backtrace  // bare metal: allocate until malloc says no, then recover
}
