#pragma once

namespace bf {
// Never returns: the program ends through exit_group, which shuts the machine down.
[[noreturn]] void start_program(const char *cmdline);
}  // namespace bf
