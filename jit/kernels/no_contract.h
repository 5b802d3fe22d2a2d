// Included by the reference files (quant_ref*.cpp, quant_weights.cpp): their float operations are
// ggml's / gguf-py's, one rounding each, in the same order. Both compilers fuse a * b + c into an
// FMA when the target has one (GCC even under -std=c++20), which rounds once and differs: switch
// that off for the rest of the including file.
#pragma once

#if defined(__clang__)
#pragma clang fp contract(off)
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif
