# lit configuration for BareFlow's test suite (run by `make test`).
import os
import subprocess

import lit.formats

config.name = "BareFlow"
config.test_format = lit.formats.ShTest(execute_external=True)
config.suffixes = [".test"]
config.excludes = ["tools", "qemu", "unit", "fuzz", "soak", "bench"]
config.test_source_root = os.path.dirname(__file__)
root = os.path.dirname(config.test_source_root)
build = os.path.join(root, "build")
config.test_exec_root = os.path.join(build, "lit")

llvm_bin = "/usr/lib/llvm-19/bin"
tools = os.path.join(config.test_source_root, "tools")
config.environment["PATH"] = os.pathsep.join(
    [tools, os.path.join(config.test_source_root, "qemu"), llvm_bin, "/usr/sbin", "/sbin",
     os.environ.get("PATH", "")])
config.environment["BAREFLOW_BUILD"] = build

# Decide KVM or TCG once for the whole run (the runner would otherwise probe per boot).
accel = os.environ.get("BAREFLOW_ACCEL")
if not accel:
    probe = subprocess.run(
        [os.path.join(config.test_source_root, "qemu", "run.sh"), "--probe"],
        capture_output=True, text=True)
    accel = probe.stdout.strip() or "tcg"
    lit_config.note("QEMU accelerator: " + (probe.stderr.strip() or accel))
config.environment["BAREFLOW_ACCEL"] = accel

config.substitutions.append(("%build", build))
config.substitutions.append(("%img", os.path.join(build, "bareflow.img")))
config.substitutions.append(("%kernel", os.path.join(build, "bareflow.elf")))
config.substitutions.append(("%mkimage", os.path.join(build, "image", "mkimage")))
config.substitutions.append(("%shared", os.path.join(os.path.dirname(root), "shared")))

# Tests of work on a spare core (the JIT's background compiles) need more than one CPU.
if (os.cpu_count() or 1) > 1:
    config.available_features.add("multicore")
