# BareFlow build. The two commands a user needs: `make run` and `make test`.
# Both first run the idempotent dependency step (.ci/deps.sh: apt-get, only what is missing).

LLVM_BIN  ?= /usr/lib/llvm-19/bin
CXX_K     := $(LLVM_BIN)/clang++
NM        := $(LLVM_BIN)/llvm-nm
NASM      ?= nasm
HOSTCXX   ?= g++
B         := build

# The kernel: one static, non-PIE ELF at 0x400000. Frame pointers kept for panic backtraces.
KCXXFLAGS := -std=c++20 -O2 -g -Wall -Wextra -Wno-psabi -fno-exceptions -fno-rtti -fno-stack-protector \
             -fno-pic -fno-pie -fno-omit-frame-pointer -mno-omit-leaf-frame-pointer \
             -fno-threadsafe-statics -ffunction-sections -fdata-sections -I. -Iapp -Ikernel_lib/include \
             -I$(B)/gen -MMD -MP
KLDFLAGS  := -static -fuse-ld=lld -Wl,--image-base=0x400000 -Wl,--gc-sections \
             -Wl,-u,kernel_entry -Wl,-z,max-page-size=4096

include llvm-bare/llvm.mk

KLIB_SRC  := $(shell find kernel_lib -name '*.cpp' -o -name '*.S' | sort)
APP_SRC   := $(shell find app -name '*.cpp' | sort)
JIT_SRC   := $(filter-out jit/jit_none.cpp,$(shell find jit -name '*.cpp' -o -name '*.S' | sort))
KLIB_OBJ  := $(patsubst %,$(B)/%.o,$(KLIB_SRC))
APP_OBJ   := $(patsubst %,$(B)/%.o,$(APP_SRC))
JIT_OBJ   := $(patsubst %,$(B)/%.o,$(JIT_SRC))
# The JIT's input: the same kernel sources as the AOT build, as bitcode with every LLVM pass
# deferred (the JIT runs -O3 for the real CPU after binding shapes).
KERNEL_BC_SRC := $(sort $(wildcard jit/kernels/*.cpp))

IMG       := $(B)/bareflow.img
KERNEL    := $(B)/bareflow.elf
FAT_MIB   ?= 64
CMDLINE   ?=

.PHONY: all deps image run test bench soak fuzz report clean FORCE
all: $(IMG)

deps:
	@bash .ci/deps.sh

$(B)/boot/mbr.bin: boot/stage1/mbr.asm $(wildcard boot/include/*.inc)
	@mkdir -p $(@D)
	$(NASM) -f bin -Iboot/include/ -o $@ $<

$(B)/boot/stage2.bin: boot/stage2/stage2.asm $(wildcard boot/stage2/*.inc boot/include/*.inc)
	@mkdir -p $(@D)
	$(NASM) -f bin -Iboot/include/ -Iboot/stage2/ -o $@ $<

$(B)/image/mkimage: image/mkimage.cpp image/elf_image.cpp image/lz4_block.cpp $(wildcard image/*.h) kernel_lib/include/bareflow/crc32.h boot/include/bootinfo.h
	@mkdir -p $(@D)
	$(HOSTCXX) -std=c++20 -O2 -Wall -Wextra -Wno-format-security -o $@ image/mkimage.cpp image/elf_image.cpp image/lz4_block.cpp -llz4

# The real-mode trampoline for BIOS disk calls: a flat NASM blob embedded with .incbin.
$(B)/kernel_lib/block/bios_trampoline.bin: kernel_lib/block/bios_trampoline.asm
	@mkdir -p $(@D)
	$(NASM) -f bin -o $@ $<

$(B)/kernel_lib/block/bios_trampoline_blob.S.o: $(B)/kernel_lib/block/bios_trampoline.bin

# The application processors' start-up code (real mode -> long mode), embedded the same way.
$(B)/kernel_lib/smp/ap_trampoline.bin: kernel_lib/smp/ap_trampoline.asm
	@mkdir -p $(@D)
	$(NASM) -f bin -o $@ $<

$(B)/kernel_lib/smp/ap_trampoline_blob.S.o: $(B)/kernel_lib/smp/ap_trampoline.bin

# Names for the "not implemented" log line, from the Linux UAPI header.
$(B)/gen/syscall_names.inc: /usr/include/x86_64-linux-gnu/asm/unistd_64.h
	@mkdir -p $(@D)
	sed -nE 's/^#define __NR_([a-z0-9_]+) ([0-9]+)$$/    {\2, "\1"},/p' $< > $@

$(B)/kernel_lib/syscall/syscall.cpp.o: $(B)/gen/syscall_names.inc

# Unicode categories for the BPE pre-tokenizers, from Debian's unicode-data (not typed in).
UNICODE_DATA := /usr/share/unicode/UnicodeData.txt /usr/share/unicode/PropList.txt
$(B)/gen/unicode_tables.inc: app/llm/gen_unicode.py $(UNICODE_DATA)
	@mkdir -p $(@D)
	python3 app/llm/gen_unicode.py $(UNICODE_DATA) > $@.tmp && mv $@.tmp $@

$(B)/app/llm/unicode.cpp.o: $(B)/gen/unicode_tables.inc

$(B)/jit/%.cpp.o: jit/%.cpp Makefile llvm-bare/llvm.mk
	@mkdir -p $(@D)
	$(CXX_K) $(KCXXFLAGS) $(LLVM_CXXFLAGS) -c -o $@ $<

# One bitcode per vector class, so tile sizes follow the CPU the JIT finds (docs/kernels.md):
# base (SSE2-sized tiles), avx2 (16-column GEMM tiles), avx512 (16 lanes), avx512vnni (avx512's
# tiles, and the quantized dot products in vpdpbusd). They may use the intrinsics of
# jit/kernels/qsimd.h for their flags: avx2 AVX2/FMA/F16C, avx512 also AVX512-F/BW/VL, avx512vnni
# also AVX512-VNNI; the JIT picks each only on a CPU that has all of its features.
BC_X86_V3       := -mavx2 -mfma -mf16c
BC_FLAGS_base   :=
BC_FLAGS_avx2   := -DBF_KERN_GEMM_NR=16 $(BC_X86_V3)
BC_FLAGS_avx512 := -DBF_KERN_VEC_FLOATS=16 -DBF_KERN_PREFETCH=4096 $(BC_X86_V3) -mavx512f -mavx512bw -mavx512vl
BC_FLAGS_avx512vnni := $(BC_FLAGS_avx512) -mavx512vnni
define kernel_bc
$(B)/jit/$(1)/%.bc: jit/kernels/%.cpp $(wildcard jit/kernels/*.h) Makefile
	@mkdir -p $$(@D)
	$$(CXX_K) -std=c++20 -O2 -Wno-psabi -Xclang -disable-llvm-passes -fno-exceptions -fno-rtti -fno-pic \
	  -Ikernel_lib/include $$(BC_FLAGS_$(1)) -emit-llvm -c -o $$@ $$<
$(B)/jit/kernels-$(1).bc: $(patsubst jit/kernels/%.cpp,$(B)/jit/$(1)/%.bc,$(KERNEL_BC_SRC))
	$$(LLVM_BIN)/llvm-link -o $$@ $$^
endef
$(foreach v,base avx2 avx512 avx512vnni,$(eval $(call kernel_bc,$(v))))

$(B)/jit/kernels_bc.S.o: $(B)/jit/kernels-base.bc $(B)/jit/kernels-avx2.bc $(B)/jit/kernels-avx512.bc \
                         $(B)/jit/kernels-avx512vnni.bc

# vfs/ is the program's file API: ordinary hosted C++ (it runs after glibc start-up).
$(B)/kernel_lib/vfs/%.cpp.o: kernel_lib/vfs/%.cpp Makefile
	@mkdir -p $(@D)
	$(CXX_K) $(KCXXFLAGS) -c -o $@ $<

# kernel_lib runs before glibc is set up: no loop may become a call to memset/memcpy.
$(B)/kernel_lib/%.cpp.o: kernel_lib/%.cpp Makefile
	@mkdir -p $(@D)
	$(CXX_K) $(KCXXFLAGS) -ffreestanding -c -o $@ $<

$(B)/%.cpp.o: %.cpp Makefile
	@mkdir -p $(@D)
	$(CXX_K) $(KCXXFLAGS) -c -o $@ $<

$(B)/%.S.o: %.S Makefile
	@mkdir -p $(@D)
	$(CXX_K) -c -o $@ $<

$(B)/kernel_lib/.freestanding: $(KLIB_OBJ) kernel_lib/check-freestanding.sh
	kernel_lib/check-freestanding.sh $(NM) $(KLIB_OBJ)
	@touch $@

$(KERNEL): $(KLIB_OBJ) $(APP_OBJ) $(JIT_OBJ) $(B)/kernel_lib/.freestanding
	$(CXX_K) $(KLDFLAGS) -o $@ $(KLIB_OBJ) $(APP_OBJ) $(JIT_OBJ) $(LLVM_LIBS)

# Partition 1: FAT16 made by the real tools (fixed volume id: reproducible images).
# /MODELS holds the synthetic default model (image/gen-model.py: deterministic, ~650 KB).
$(B)/model/MODEL.BIN: image/gen-model.py
	python3 image/gen-model.py $(@D) >/dev/null

$(B)/fat.img: image/fat/README.TXT $(B)/model/MODEL.BIN
	@mkdir -p $(@D)
	rm -f $@
	mkfs.fat -F 16 -n BAREFLOW -i 42464c57 -h 2048 -C $@ $$(($(FAT_MIB) * 1024)) >/dev/null
	mcopy -i $@ image/fat/README.TXT ::/README.TXT
	mmd -i $@ ::/MODELS
	mcopy -i $@ $(B)/model/MODEL.BIN $(B)/model/TOKENIZ.BIN ::/MODELS/

# Rebuild the image when CMDLINE changes, not only when files do.
$(B)/cmdline.stamp: FORCE
	@mkdir -p $(@D)
	@echo '$(CMDLINE)' | cmp -s - $@ 2>/dev/null || echo '$(CMDLINE)' > $@

$(IMG): $(B)/boot/mbr.bin $(B)/boot/stage2.bin $(B)/image/mkimage $(KERNEL) $(B)/fat.img $(B)/cmdline.stamp
	$(B)/image/mkimage --mbr $(B)/boot/mbr.bin --stage2 $(B)/boot/stage2.bin \
	  --kernel $(KERNEL) --fat $(B)/fat.img --out $@ --cmdline "$(CMDLINE)"

# A bootable image carrying a model: make image MODEL=m.bin TOKENIZER=t.bin [PROMPT="..."], or
# MODEL=m.gguf (its own vocabulary; TOKENIZER may be left out or "-").
MODEL_IMG ?= $(B)/bareflow-model.img
image: all
	@test -n "$(MODEL)" || { echo "usage: make image MODEL=model.bin|model.gguf [TOKENIZER=tokenizer.bin|-] [PROMPT=...] [MODEL_IMG=out.img]"; exit 2; }
	PROMPT='$(PROMPT)' image/bundle.sh $(MODEL_IMG) $(MODEL) $(or $(TOKENIZER),-)
	@echo "image: $(MODEL_IMG) (boot it with: tests/qemu/run.sh --interactive $(MODEL_IMG))"

run: deps
	@$(MAKE) --no-print-directory all
	@tests/qemu/run.sh --interactive --smp $$(nproc) --records $(B)/records.jsonl $(IMG)

test: deps
	@$(MAKE) --no-print-directory all
	@tests/run-all.sh

bench: deps
	@$(MAKE) --no-print-directory all
	@tests/bench/boot.sh $(IMG)
	@tests/bench/runtime.sh
	@tests/bench/storage.sh
	@$(MAKE) --no-print-directory $(B)/bench/openblas_bench
	@tests/bench/kernels.sh
	@tests/bench/llm.sh

# OpenBLAS on the bench-kernels shapes (a host program: the kernel ELF never links OpenBLAS).
$(B)/bench/openblas_bench: tests/bench/openblas_bench.cpp
	@mkdir -p $(@D)
	$(HOSTCXX) -std=c++20 -O2 -Wall -Wextra -I/usr/include/x86_64-linux-gnu/openblas-pthread -o $@ $< -lopenblas

# Plots and a markdown table from the kernel benchmark's records (build/report/bench.jsonl,
# written by `make bench`): build/report/kernels.png and build/report/kernels.md.
# Debian's python3 (python3-matplotlib from .ci/deps.sh), not a pyenv/venv one earlier in PATH.
REPORT_PY ?= $(shell test -x /usr/bin/python3 && echo /usr/bin/python3 || echo python3)
report:
	@test -s $(B)/report/bench.jsonl || { echo "make report: $(B)/report/bench.jsonl is missing: run 'make bench' first (or tests/bench/kernels.sh)" >&2; exit 1; }
	@$(REPORT_PY) tests/bench/report.py $(B)/report/bench.jsonl $(B)/report

# Every libFuzzer target for FUZZ_SECONDS (default 600) each.
fuzz: deps
	@for t in tests/fuzz/*_fuzz.cpp; do tests/fuzz/run.sh $$(basename $$t .cpp) $${FUZZ_SECONDS:-600} || exit 1; done

# Power-cut soak: 50 random cuts during atomic rewrites, checked with fsck.fat and mtools.
soak: deps
	@$(MAKE) --no-print-directory all
	@tests/soak/powercut.sh 50

clean:
	rm -rf $(B)

-include $(shell find $(B) -name '*.d' 2>/dev/null)
