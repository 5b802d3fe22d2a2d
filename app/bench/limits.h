// The machine's limits that the benchmarks set their figures against, measured in the same run
// by jit/kernels/peak.h's probes: the fp32 FMA peak, the int8 dot-step peak (the quantized
// kernels' inner step) and the read bandwidth. One measurement for bench-kernels (one core, AOT
// and JIT builds side by side) and bench-llm (1 and N cores, the build the kernels run).
#pragma once

namespace bf::app::limits {

enum class Build { Aot, Jit };

// The probes' JIT build exists: compiled on first use, once per run (a second compile of a probe
// would define its symbol twice), for the CPU the JIT targets. False with the JIT off, or when a
// probe does not compile (said once on stdout); the Jit figures below are then 0.
bool have_jit();

// Multiply-adds per second (1e9) on `cores` cores at once (1: one core), each running the probe:
// iterations doubled until a call takes >= 10 ms, then the fastest of 7 (a peak is the best the
// cores reach; on a shared host a median mostly measures the neighbours).
double fma_gmacs(Build b, int cores);  // fp32 FMA chains (GFLOP/s is twice this)
double dot_gmacs(Build b, int cores);  // the int8 dot step: 32 byte products summed to int32

// Read bandwidth in GB/s (1e9 bytes): `mib` MiB of floats summed on `cores` cores, 1 MiB pieces
// handed out by the pool; median of 5 after one warm-up pass.
double read_gbs(Build b, int cores, int mib);

}  // namespace bf::app::limits
