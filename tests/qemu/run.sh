#!/usr/bin/env bash
# Boots a BareFlow image in QEMU: the one runner for `make run`, boot tests and benchmarks.
#
#   run.sh [--bus ide|virtio|ahci|xhci|ehci] [--mem SIZE] [--timeout SEC] [--cpu MODEL]
#          [--accel kvm|tcg] [--interactive] [--log FILE] [--input FILE] [--snapshot] [--probe]
#          IMAGE [-- extra QEMU args]
#
# KVM when /dev/kvm works (probed, unless BAREFLOW_ACCEL or --accel says), TCG otherwise.
# Non-interactive runs capture COM1 to a log, print it on stdout when QEMU ends, and map the
# exit: the kernel's isa-debug-exit status (0 = success); 100 = halted (stage 2 or the kernel
# printed "System halted."); 124 = timeout; 125 = QEMU itself failed.
set -u
bus=virtio mem=512M timeout=120 cpu="" accel="${BAREFLOW_ACCEL:-}" interactive=0 log="" img="" input=""
probe_only=0 snapshot=0
extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --bus) bus=$2; shift 2 ;;
    --mem) mem=$2; shift 2 ;;
    --timeout) timeout=$2; shift 2 ;;
    --cpu) cpu=$2; shift 2 ;;
    --accel) accel=$2; shift 2 ;;
    --interactive) interactive=1; shift ;;
    --snapshot) snapshot=1; shift ;;     # writes go to a temporary overlay
    --probe) probe_only=1; shift ;;      # print kvm or tcg, and why on stderr

    --log) log=$2; shift 2 ;;
    --input) input=$2; shift 2 ;;        # bytes typed into COM1 (then silence)
    --) shift; extra=("$@"); break ;;
    -*) echo "run.sh: unknown option $1" >&2; exit 2 ;;
    *) img=$1; shift ;;
  esac
done
QEMU=${QEMU:-qemu-system-x86_64}

accel_note=""
probe_kvm() {
  [ -r /dev/kvm ] && [ -w /dev/kvm ] || { accel_note="no usable /dev/kvm"; return 1; }
  # PVM (kvm_pvm) runs only paravirtualized guests: it emulates an unmodified one instruction by
  # instruction and fails at its first SSE instruction, so it does not count as KVM here.
  if [ -d /sys/module/kvm_pvm ] && [ ! -d /sys/module/kvm_intel ] && [ ! -d /sys/module/kvm_amd ]; then
    accel_note="/dev/kvm is PVM (kvm_pvm), which cannot run an unmodified kernel"; return 1
  fi
  # QEMU 7.2's "-cpu host" aborts on some hosts (MSR 0x10a): probe the exact flags we use.
  echo quit | timeout 20 "$QEMU" -accel kvm -cpu host,-arch-capabilities -machine pc \
    -display none -nodefaults -monitor stdio -S >/dev/null 2>&1 || { accel_note="QEMU cannot start a KVM guest here"; return 1; }
}
if [ -z "$accel" ]; then
  if probe_kvm; then accel=kvm; else accel=tcg; fi
fi
if [ "$probe_only" = 1 ]; then
  echo "$accel"
  echo "${accel^^}${accel_note:+ ($accel_note)}" >&2
  exit 0
fi
[ -n "$img" ] || { echo "run.sh: no image given" >&2; exit 2; }
[ -f "$img" ] || { echo "run.sh: image '$img' not found (run 'make' first)" >&2; exit 2; }
if [ -z "$cpu" ]; then
  if [ "$accel" = kvm ]; then cpu=host,-arch-capabilities; else cpu=max; fi
fi

machine=pc
case "$bus" in
  ide)    drive=(-drive "file=$img,format=raw,if=ide") ;;
  virtio) drive=(-drive "file=$img,format=raw,if=virtio") ;;
  ahci)   machine=q35; drive=(-drive "file=$img,format=raw,if=none,id=d0" -device ide-hd,drive=d0,bus=ide.0) ;;
  xhci)   drive=(-device qemu-xhci,id=xhci -drive "if=none,id=stick,format=raw,file=$img"
                 -device usb-storage,bus=xhci.0,drive=stick,bootindex=0) ;;
  ehci)   drive=(-device usb-ehci,id=ehci -drive "if=none,id=stick,format=raw,file=$img"
                 -device usb-storage,bus=ehci.0,drive=stick,bootindex=0) ;;
  *) echo "run.sh: unknown bus '$bus' (ide, virtio, ahci, xhci, ehci)" >&2; exit 2 ;;
esac
args=(-machine "$machine" -accel "$accel" -cpu "$cpu" -m "$mem" -display none -no-reboot
      -nic none -device isa-debug-exit,iobase=0xf4,iosize=0x04 "${drive[@]}" "${extra[@]}")
[ "$snapshot" = 1 ] && args+=(-snapshot)

echo "run.sh: $img on $bus, $mem RAM, ${accel^^} (-cpu $cpu)${accel_note:+; TCG because $accel_note}" >&2
if [ "$interactive" = 1 ]; then
  echo "run.sh: the serial console follows; Ctrl-A X quits QEMU" >&2
  "$QEMU" "${args[@]}" -serial mon:stdio
  rc=$?
  [ $((rc & 1)) = 1 ] && exit $(((rc - 1) / 2))
  exit $rc
fi

own_log=0
if [ -z "$log" ]; then log=$(mktemp); own_log=1; fi
: > "$log"
helpers=()
if [ -n "$input" ]; then
  # COM1 through a FIFO pair: QEMU takes input only as fast as the guest UART drains it.
  fifo=$(mktemp -d)
  mkfifo "$fifo/com1.in" "$fifo/com1.out"
  cat "$fifo/com1.out" > "$log" & helpers+=($!)
  serial=(-chardev "pipe,id=com1,path=$fifo/com1" -serial chardev:com1)
else
  serial=(-serial "file:$log")
fi
"$QEMU" "${args[@]}" "${serial[@]}" -monitor none 2> "$log.qemu-stderr" &
pid=$!
# Type once the program is starting, as a person at the terminal would: UART set-up is over by
# then (enabling the FIFO resets it, so bytes arriving during that instant could be lost).
if [ -n "$input" ]; then
  ( for _ in $(seq 6000); do grep -q "starting the program" "$log" 2>/dev/null && break; sleep 0.05; done
    cat "$input" > "$fifo/com1.in" ) & helpers+=($!)
fi
status=""
deadline=$((SECONDS + timeout))
while kill -0 "$pid" 2>/dev/null; do
  if grep -q "System halted\." "$log" 2>/dev/null; then
    sleep 0.2; kill "$pid" 2>/dev/null; status=100; break
  fi
  if [ $SECONDS -ge $deadline ]; then
    kill "$pid" 2>/dev/null; status=124
    echo "run.sh: timeout after ${timeout}s" >&2; break
  fi
  sleep 0.1
done
wait "$pid" 2>/dev/null
rc=$?
for h in "${helpers[@]}"; do kill "$h" 2>/dev/null; wait "$h" 2>/dev/null; done
[ -n "$input" ] && rm -rf "$fifo"
tr -d '\r' < "$log"
if [ -z "$status" ]; then
  if [ $((rc & 1)) = 1 ]; then status=$(((rc - 1) / 2))
  else
    status=125
    echo "run.sh: QEMU failed (exit $rc):" >&2; cat "$log.qemu-stderr" >&2
  fi
fi
rm -f "$log.qemu-stderr"
[ "$own_log" = 1 ] && rm -f "$log"
exit "$status"
