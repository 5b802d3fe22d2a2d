#!/usr/bin/env bash
# kernel_lib runs before glibc is initialized (IFUNCs unresolved, no TLS), so its objects may only
# reference symbols kernel_lib itself defines. hosted/ is the one exception: it is only called
# when the ELF runs as a Linux process. Usage: check-freestanding.sh NM OBJ...
set -euo pipefail
nm=$1; shift
own=$(mktemp); trap 'rm -f "$own"' EXIT
"$nm" --defined-only -j "$@" 2>/dev/null | sort -u > "$own"
# Linker-made symbols and addresses taken but not called before glibc runs.
allowed=" __ehdr_start _start "
bad=0
for o in "$@"; do
  case "$o" in */hosted/*) continue ;; esac
  for s in $("$nm" -u -j "$o"); do
    if [[ "$allowed" != *" $s "* ]] && ! grep -qxF "$s" "$own"; then
      echo "check-freestanding: $o references '$s', which kernel_lib does not define (libc is not usable before glibc start-up)" >&2
      bad=1
    fi
  done
done
exit $bad
