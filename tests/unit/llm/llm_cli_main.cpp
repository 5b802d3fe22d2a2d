// llm_cli: the `generate` command alone as a host program, for the llm tests (they run it as a
// child process and compare its stdout with the reference outputs). The product's main() is
// app/main.cpp; this one exists only for the tests.
#include "llm/cli.h"

int main(int argc, char **argv) { return bf::llm::run_generate(argc, argv); }
