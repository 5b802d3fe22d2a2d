#!/usr/bin/env bash
# kernel_lib runs before glibc is initialized (IFUNCs unresolved, no TLS), so its objects may only
# reference symbols kernel_lib itself defines. The exceptions are hosted/ (only called when the ELF
# runs as a Linux process) and vfs/ (the program's file API: called from main(), after glibc
# start-up, never from a syscall handler). Usage: check-freestanding.sh NM OBJ...
set -euo pipefail
nm=$1; shift
own=$(mktemp); trap 'rm -f "$own"' EXIT
"$nm" --defined-only -j "$@" 2>/dev/null | sort -u > "$own"
# Linker-made symbols and addresses taken but not called before glibc runs.
allowed=" __ehdr_start _start "
bad=0
for o in "$@"; do
  case "$o" in */hosted/*|*/vfs/*) continue ;; esac
  for s in $("$nm" -u -j "$o"); do
    if [[ "$allowed" != *" $s "* ]] && ! grep -qxF "$s" "$own"; then
      echo "check-freestanding: $o references '$s', which kernel_lib does not define (libc is not usable before glibc start-up)" >&2
      bad=1
    fi
  done
done
# Static constructors would run only when glibc starts, after kernel_lib already used the object.
for o in "$@"; do
  case "$o" in */hosted/*|*/vfs/*) continue ;; esac
  if "$(dirname "$nm")/llvm-objdump" -h "$o" | grep -q '\.init_array'; then
    echo "check-freestanding: $o has a static constructor (.init_array): kernel_lib state must be constant-initialized" >&2
    bad=1
  fi
done
exit $bad
