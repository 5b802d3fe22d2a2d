#pragma once
namespace app {
int run_selftest();          // 0 when every check passed
int run_alloc_exhaustion();  // bare metal: allocate until malloc says no, then recover
}
