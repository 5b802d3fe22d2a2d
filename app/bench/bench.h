#pragma once
#include <stdint.h>
namespace bf::app {
int run_bench_runtime(uint64_t us_at_main);
int run_bench_read(const char *path);  // file read rate through the file system  // us_at_main: bf::us_since_power_on() at main()
}
