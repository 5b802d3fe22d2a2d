// The hardware discovery report printed at boot: CPU, the features that matter for the tensor
// kernels (present and enabled by XCR0), caches, TSC, memory, PCI devices, processors; human lines plus one
// {"record":"hw",...} JSON line.
#pragma once
#include <stdint.h>

namespace bf {

struct CpuFeatures {
    bool sse42, avx, avx2, fma, avx512f, avx512bw, avx512vl, avx512vnni, avx512bf16, amx;
};
CpuFeatures cpu_features();  // usable now: the CPU has it and XCR0 enables its state

void hw_report(uint64_t usable_bytes);        // the human lines
// The {"record":"hw"} line: what hw_report found plus the processors (bare metal: after the
// application processors are started, kernel_lib/smp/).
void hw_record(int cores_found, int cores_online);

}  // namespace bf
