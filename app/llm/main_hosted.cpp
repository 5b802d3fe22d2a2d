// A standalone entry for the llm tests (tests/unit/llm builds it as llm_cli with
// -DBF_LLM_HOSTED_MAIN). Compiled into the real app it is empty: app/main.cpp owns main().
#ifdef BF_LLM_HOSTED_MAIN
#include "cli.h"

int main(int argc, char **argv) { return run_generate(argc, argv); }
#endif
