// The `generate` command: a typed request and the run.c-style command line that produces one.
//   generate MODEL TOKENIZER [-p prompt] [-n steps] [-t temp] [-P topp] [-s seed] [--trace] [-o FILE]
#pragma once
#include <stdint.h>

#include <string>

#include "loader.h"

namespace bf::llm {

// One generation, as run.c's flags describe it; the defaults are run.c's.
struct GenerateRequest {
    std::string model;      // llama2.c checkpoint or GGUF file (through bf::vfs)
    std::string tokenizer;  // tokenizer.bin path; empty or "-": a GGUF file's own vocabulary
    LoadOptions load;       // default tokenizer, context, KV cache type (BAREFLOW.CFG)
    std::string prompt;
    int64_t steps = 256;       // 0 or above seq_len: seq_len (ranges: params.h)
    float temperature = 1.0f;  // 0: greedy
    float topp = 0.9f;
    uint64_t seed = 0;         // 0: from the time (printed)
    bool trace = false;        // per-position logits instead of the text
    std::string out_path;      // empty: stdout
};

// Runs a request (values outside params.h's ranges are refused, not replaced): loads, generates, prints the text (or the
// trace) and the tok/s lines on stderr. Returns the exit status (0, or 1 with a message).
int run_generate_request(const GenerateRequest &req);

// The command line: argv[0] is the program; argv[1] may be the word "generate" (skipped).
// Returns the exit status (2 for a usage error).
int run_generate(int argc, char **argv, const LoadOptions &load = {});

}  // namespace bf::llm
