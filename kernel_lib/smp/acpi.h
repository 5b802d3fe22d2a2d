// Finding the ACPI MADT in physical memory (legacy BIOS: the RSDP in the EBDA or the BIOS ROM
// area, then the RSDT or XSDT). Bare metal only; reads through the kernel's identity map.
#pragma once
#include "madt.h"

namespace bf::acpi {

// Fills *out from the firmware's MADT. False when there is none or it is bad; out->reason then
// says which step failed (e.g. "no ACPI RSDP found", "MADT checksum bad").
bool find_madt(Madt *out);

}  // namespace bf::acpi
