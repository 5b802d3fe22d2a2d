#!/usr/bin/env bash
# Power-cut soak: boots `fs-stress` and kills QEMU at a random moment, ROUNDS times on one image
# (each boot continues on what the previous one left). After every cut:
#  - fsck.fat -n may report the dirty bit, lost clusters of the file being written, and orphaned
#    long-name slots of a temporary (*.tmp) file whose deletion was cut between two directory
#    sectors (the engine deletes the short entry first, so a cut leaves only slots fsck drops),
#    and "FATs differ but appear to be intact" (the cut fell between writing FAT copy 1 and 2;
#    no two-sector write is atomic; fsck takes the first copy, which is the newer one);
#    nothing else (no cross-linked files, no bad chains, no broken directories);
#  - every version printed as "committed" is on disk, byte for byte, unless a later version of the
#    same slot was in flight when the power went (then either version may be there).
# Usage: powercut.sh [ROUNDS] [BUS]   (`make soak` runs 50; the test suite runs a few)
set -u
cd "$(dirname "$0")/../.."
rounds=${1:-50}
bus=${2:-virtio}
export BAREFLOW_BUILD=build PATH="$PWD/tests/tools:$PWD/tests/qemu:$PATH"
# After a cut FAT[1]'s clean bit is (rightly) cleared; mtools refuses such a volume unless told.
export MTOOLS_SKIP_CHECK=1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
img=$work/disk.img
make-image "$img" fs-stress
fails=0
for round in $(seq "$rounds"); do
  log=$work/serial.log
  : > "$log"
  cut=$(python3 -c "import random; print(round(random.uniform(0.3, 3.0), 2))")
  run.sh --bus "$bus" --timeout 120 --log "$log" "$img" > /dev/null 2>&1 &
  runner=$!
  for _ in $(seq 600); do grep -q '^stress: start' "$log" 2>/dev/null && break; sleep 0.1; done
  sleep "$cut"
  pkill -KILL -f "qemu-system-x86_64.*$img" 2>/dev/null
  wait "$runner" 2>/dev/null
  off=$(part-offset "$img" 1); n=$(part-offset "$img" 1 sectors)
  dd if="$img" of="$work/p1" bs=512 skip=$((off / 512)) count="$n" status=none
  fsck.fat -n "$work/p1" > "$work/fsck.out" 2>&1
  bad=$(sed -E '/Orphaned long file name part ".*\.tmp"/{N;d}' "$work/fsck.out" | grep -v -E '^fsck.fat|Dirty bit is set|Fs was not properly unmounted|some data may be corrupt|Automatically removing dirty bit|unused clusters|Reclaimed|lost clusters|Leaving filesystem unchanged|files, [0-9]+/[0-9]+ clusters|Free cluster summary|^ *$|Performing changes|Not automatically fixing|Contains a free cluster|Remove dirty bit|FATs differ but appear to be intact|Using first FAT' | grep -v '^/tmp/' || true)
  committed=$(grep -c '^stress: committed' "$log")
  # The newest committed version of each slot, and the slot in flight (the next one after it).
  problems=$(python3 - "$log" "$work/p1" <<'PY'
import re, subprocess, sys
log, part = sys.argv[1], sys.argv[2]
latest = {}
for line in open(log, errors="replace"):
    m = re.match(r"stress: committed (SLOT\d\d\.BIN) v(\d+) (\d+)", line)
    if m:
        latest[m.group(1)] = int(m.group(2))
inflight = (max(latest.values()) + 1) if latest else 1
out = []
for name, v in sorted(latest.items()):
    want = lambda v: bytes(((k * 31 + v * 7) & 0xFF) for k in range(v * 1013 % 70000 + 1))
    got = subprocess.run(["mtype", "-i", part, "::/STRESS/" + name], capture_output=True).stdout
    ok = got == want(v) or ("SLOT%02d.BIN" % (inflight % 16) == name and got == want(inflight))
    if not ok:
        out.append(f"{name}: committed v{v} is not on disk intact ({len(got)} bytes)")
print("\n".join(out))
PY
)
  if [ -n "$bad" ] || [ -n "$problems" ]; then
    fails=$((fails + 1))
    echo "powercut: round $round (cut after ${cut}s, $committed commits): FAILED"
    [ -n "$bad" ] && echo "$bad" | sed 's/^/  fsck: /'
    [ -n "$problems" ] && echo "$problems" | sed 's/^/  data: /'
  else
    echo "powercut: round $round (cut after ${cut}s, $committed commits): ok"
  fi
done
echo "powercut: $((rounds - fails)) passed, $fails failed"
[ "$fails" = 0 ]
