// TEMPORARY until kernel_lib/smp/pool.cpp lands from main (issue 16): a worker that only sleeps.
// Delete this file at the merge.
#include "smp.h"

namespace bf::pool {
[[noreturn]] void worker_main(int) {
    for (;;) smp::idle_halt();
}
}  // namespace bf::pool
