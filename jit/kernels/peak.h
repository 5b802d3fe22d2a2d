// Machine-limit probes for the kernel benchmark (peak.cpp): not transformer kernels, so not in
// the registry. extern "C": the JIT compiles them by these plain names (BF_PROBE_SYMBOL).
#pragma once

extern "C" {
int bf_peak_lanes();                                // floats per row of the probes' vectors
float bf_peak_fma12(long iters, float a, float b);  // 12 independent FMA chains per lane
float bf_peak_fma6(long iters, float a, float b);   // 6 chains: fits SSE2's 16 registers
float bf_read_sum(const float *p, long n);          // streaming read: the sum of n floats
// The int8 dot step of the quantized kernels (qsimd.h dot_u8: unsigned x signed bytes summed in
// fours to 32 bits; AVX2 vpmaddubsw + vpmaddwd + vpaddd, VNNI vpdpbusd) on 8 independent chains
// of the widest vectors the kernels use in that build: bf_peak_dot_macs() multiply-adds per
// iteration (8 * 32, or 8 * 64 with 512-bit vectors). The sum, so nothing is dropped.
int bf_peak_dot8(long iters, int seed);
int bf_peak_dot_macs();
}

// The symbol of a probe, checked to exist: BF_PROBE_SYMBOL(bf_read_sum) is "bf_read_sum".
#define BF_PROBE_SYMBOL(f) (static_cast<void>(&f), #f)
