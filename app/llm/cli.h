// `generate MODEL TOKENIZER [-p prompt] [-n steps] [-t temp] [-P topp] [-s seed] [--trace]`
#pragma once

namespace bf::llm {
// argv[0] is the program; argv[1] may be the word "generate" (skipped). Returns the exit status.
int run_generate(int argc, char **argv);
}  // namespace bf::llm

// The same, under the unqualified name the app's main() dispatches to.
int run_generate(int argc, char **argv);
