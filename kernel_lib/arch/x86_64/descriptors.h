#pragma once
#include <stddef.h>
#include <stdint.h>

namespace bf::cpu {

constexpr uint16_t kKernelCode = 0x08, kKernelData = 0x10, kTss = 0x18;
constexpr int kIstException = 1, kIstCritical = 2, kIstCount = 2;

void descriptors_init();

}  // namespace bf::cpu
