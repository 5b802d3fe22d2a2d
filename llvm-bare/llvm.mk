# Debian's LLVM 19 static libraries, linked into the one kernel ELF (included by the Makefile).
# Only the components the JIT needs; --gc-sections drops what they do not reach. Our code is built
# -fno-rtti -fno-exceptions; Debian's LLVM is built with RTTI, which is fine for linking as long as
# we never dynamic_cast LLVM objects.
LLVM_CONFIG     ?= /usr/lib/llvm-19/bin/llvm-config
LLVM_COMPONENTS := orcjit native passes bitreader bitwriter
LLVM_CXXFLAGS   := -isystem $(shell $(LLVM_CONFIG) --includedir) -D__STDC_CONSTANT_MACROS \
                   -D__STDC_FORMAT_MACROS -D__STDC_LIMIT_MACROS -D_GNU_SOURCE
LLVM_LIBS       := -L$(shell $(LLVM_CONFIG) --libdir) \
                   $(shell $(LLVM_CONFIG) --libs $(LLVM_COMPONENTS) --link-static) -lz -lzstd
LLVM_VERSION    := $(shell $(LLVM_CONFIG) --version)
