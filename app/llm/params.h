// The one validator of the sampling parameters, shared by every place a person sets them: the
// `generate` flags (-n -t -P -s), BAREFLOW.CFG and the environment (app/config.cpp, keys steps,
// temperature, topp, seed) and the REPL's `set` (through config.cpp). A bad value is refused with
// the same message everywhere (each caller prefixes where it came from); nothing is replaced by a
// default behind the user's back.
#pragma once
#include <stdint.h>

#include <string>
#include <string_view>

namespace bf::llm {

// steps: an integer in [0, kMaxSteps]; 0, or above the context, means the whole context.
constexpr int64_t kMaxSteps = 2147483647;
bool parse_steps(std::string_view v, int64_t &out, std::string &err);
// temperature: a finite number >= 0; 0 = greedy.
bool parse_temperature(std::string_view v, float &out, std::string &err);
// topp: a number in [0, 1]; 0 or 1 = sample from the whole distribution (as run.c's -p).
bool parse_topp(std::string_view v, float &out, std::string &err);
// seed: an unsigned 64-bit integer; 0 or a negative integer (run.c's -s -1) = from the clock,
// and whoever draws that seed prints it.
bool parse_seed(std::string_view v, uint64_t &out, std::string &err);

// The ranges themselves, for values that arrive already typed (a GenerateRequest built in code).
inline bool temperature_ok(float t) { return t >= 0 && t <= 3.4028235e38f; }  // finite, >= 0
inline bool topp_ok(float p) { return p >= 0 && p <= 1; }
inline bool steps_ok(int64_t n) { return n >= 0 && n <= kMaxSteps; }

// Generic pieces the settings parser uses for its other keys (same wording).
bool parse_int(std::string_view v, int64_t lo, int64_t hi, int64_t &out, std::string &err);
bool parse_float(std::string_view v, float &out, std::string &err);  // finite as a float

// Printable form of a value for messages: at most 40 bytes, control bytes as \xNN.
std::string shown(std::string_view v);

}  // namespace bf::llm
