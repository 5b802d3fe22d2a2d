// GGUF models (llama.cpp's format) as a Model: architectures `llama` (Llama 2, TinyLlama,
// SmolLM, llama2.c conversions) and `qwen2` (Qwen2/2.5: Q/K/V biases, NEOX RoPE): hyperparameters from the metadata, tensors by llama.cpp's names
// (token_embd, blk.N.attn_q/k/v/output, ffn_gate/down/up, attn_norm, ffn_norm, output_norm,
// output; no output: tied to the embedding), the KV cache in fp16 as llama.cpp keeps it.
#pragma once
#include <string>

#include "gguf.h"
#include "model.h"

namespace bf::llm {

// Builds `out` over f's tensors (keep f's buffer alive). False, with err naming the key or
// tensor, for another architecture, a missing or misshaped tensor, or a weight type forward()
// cannot multiply yet.
bool load_gguf_model(const gguf::File &f, Model &out, std::string &err);

// After load_gguf_model: every Q4_0 matrix whose rows are whole groups of 8 blocks (cols a
// multiple of 256) regrouped in place for the kernels (quant.h block_q4_0x8) and retyped
// Q4_0_X8; the bytes change order, not size. `file` (size bytes) is the writable buffer the
// model's tensors point into; the GGUF metadata still says Q4_0 (what the file stores).
void regroup_weights(Weights &w, uint8_t *file, size_t size);

}  // namespace bf::llm
