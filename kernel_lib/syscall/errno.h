// Linux errno values (kernel_lib cannot include libc headers in code that runs before glibc).
#pragma once

namespace bf {
constexpr long kEPERM = 1, kENOENT = 2, kESRCH = 3, kEINTR = 4, kEIO = 5, kEBADF = 9,
               kEAGAIN = 11, kENOMEM = 12, kEACCES = 13, kEFAULT = 14, kEEXIST = 17,
               kENOTDIR = 20, kEISDIR = 21, kEINVAL = 22, kENFILE = 23, kEMFILE = 24,
               kENOTTY = 25, kENOSPC = 28, kESPIPE = 29, kERANGE = 34, kEDEADLK = 35,
               kENAMETOOLONG = 36, kENOSYS = 38, kENOTEMPTY = 39, kENODEV = 19;
}  // namespace bf
