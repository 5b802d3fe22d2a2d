#!/usr/bin/env bash
# Idempotent dependency step for BareFlow on Debian 12 (bookworm), run as root
# (or with sudo available). `make run`, `make test` and .ci/run all call it through
# `make deps`; it does nothing when every package is already installed.
set -euo pipefail

PKGS=(
  make nasm clang-19 lld-19 llvm-19 llvm-19-dev llvm-19-tools
  libzstd-dev zlib1g-dev liblz4-dev libxml2-dev libedit-dev libncurses-dev libffi-dev
  qemu-system-x86 qemu-utils mtools dosfstools
  cmake g++ libgtest-dev python3 zstd bc linux-libc-dev libclang-rt-19-dev
  libopenblas-dev python3-matplotlib unicode-data
)

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "deps: installing ${missing[*]}"
SUDO=
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "deps: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
  SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
