// Refusing weights that cannot be right: a NaN, an infinity or an absurd magnitude in a tensor
// makes every logit NaN and generation print <unk> forever. One scan at load (memory bandwidth:
// ~0.1 s for a 440 MB fp32 model), shared by both formats' loaders.
#pragma once
#include <stdint.h>

#include <string>

namespace bf::llm {

// Largest |weight| accepted in an fp32/fp16/bf16 tensor: real models stay far below (|w| < 1e4);
// 1e30 squared in a dot product is already an infinity.
constexpr float kMaxAbsWeight = 1e30f;

// Checks `n` values of ggml type `type` at `data`: every float value finite and at most
// kMaxAbsWeight in magnitude; for the block-quantized types every block's fp16 scale (and min
// scale) finite. False with err "model: tensor NAME: value I is nan" / "... block B's scale d is
// inf", naming the tensor. Types it does not know pass (the loaders refuse those anyway).
bool check_weights(const char *name, uint32_t type, const void *data, uint64_t n, std::string &err);

}  // namespace bf::llm
