#!/usr/bin/env bash
# Boots a BareFlow image in QEMU: the one runner for `make run`, boot tests and benchmarks.
#
#   run.sh [--bus ide|virtio|ahci|xhci|ehci] [--mem SIZE] [--smp N] [--timeout SEC] [--cpu MODEL]
#          [--accel kvm|tcg] [--interactive] [--log FILE] [--input FILE] [--snapshot] [--probe]
#          [--keys FILE [--prompt TEXT]] [--vga-dump FILE] [--records FILE | --no-com2]
#          IMAGE [-- extra QEMU args]
#
# COM2 carries the JSON records (docs/records.md): --records FILE writes them to FILE; without
# it they go to a temporary file that is printed on stdout after COM1's log (after a line
# "run.sh: records (COM2):"). --no-com2 leaves the second UART out: the guest then prints its
# records on COM1 after the human output of each phase.
#
# --input FILE types FILE's bytes into COM1 once the program is starting.
# --keys FILE types FILE on the PS/2 keyboard (QEMU monitor `sendkey`, one key per character:
#   shift for upper case and symbols, `ret` for a newline, backspace for BS or DEL, tab, esc,
#   ctrl-<letter> for other control bytes), one line at a time. Line 1 starts once the program
#   is starting; each line waits for the guest: with --prompt TEXT (e.g. "bareflow> "), line N
#   waits for the Nth TEXT on COM1, else for COM1 to stay quiet for a second.
# --vga-dump FILE appends the 80x25 VGA text screen (0xB8000, read with the monitor's pmemsave,
#   characters only, non-ASCII as \xHH, trailing blanks cut) and the hardware cursor to FILE
#   each time --keys waits for the guest (before each line, and after the last one while QEMU
#   still runs), and before the runner stops QEMU (halt or timeout). A last line `quit` thus
#   leaves the screen as it was just before it. Screens start with "--- vga screen N: WHEN".
#
# --smp N gives the guest N processors (-smp N; under TCG with -accel tcg,thread=multi, one host
#   thread per virtual CPU, so they really run in parallel).
# KVM when /dev/kvm works (probed, unless BAREFLOW_ACCEL or --accel says), TCG otherwise.
# Non-interactive runs capture COM1 to a log, print it on stdout when QEMU ends, and map the
# exit: the kernel's isa-debug-exit status (0 = success); 100 = halted (stage 2 or the kernel
# printed "System halted."); 124 = timeout; 125 = QEMU itself failed.
set -u
bus=virtio mem=512M timeout=120 cpu="" accel="${BAREFLOW_ACCEL:-}" interactive=0 log="" img="" input=""
probe_only=0 snapshot=0 smp="" keys="" prompt="" vga_dump="" records="" com2=1
extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --bus) bus=$2; shift 2 ;;
    --mem) mem=$2; shift 2 ;;
    --smp) smp=$2; shift 2 ;;
    --timeout) timeout=$2; shift 2 ;;
    --cpu) cpu=$2; shift 2 ;;
    --accel) accel=$2; shift 2 ;;
    --interactive) interactive=1; shift ;;
    --snapshot) snapshot=1; shift ;;     # writes go to a temporary overlay
    --probe) probe_only=1; shift ;;      # print kvm or tcg, and why on stderr

    --log) log=$2; shift 2 ;;
    --input) input=$2; shift 2 ;;        # bytes typed into COM1 (then silence)
    --keys) keys=$2; shift 2 ;;          # text typed on the PS/2 keyboard, line by line
    --prompt) prompt=$2; shift 2 ;;      # what the guest prints when it waits for a line
    --vga-dump) vga_dump=$2; shift 2 ;;  # VGA text screens, appended
    --records) records=$2; shift 2 ;;    # COM2 (the records) to this file
    --no-com2) com2=0; shift ;;
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
accel_arg=$accel
smp_args=()
if [ -n "$smp" ]; then
  smp_args=(-smp "$smp")
  [ "$accel" = tcg ] && accel_arg=tcg,thread=multi
fi
args=(-machine "$machine" -accel "$accel_arg" -cpu "$cpu" -m "$mem" "${smp_args[@]}" -display none -no-reboot
      -nic none -device isa-debug-exit,iobase=0xf4,iosize=0x04 "${drive[@]}" "${extra[@]}")
[ "$snapshot" = 1 ] && args+=(-snapshot)

echo "run.sh: $img on $bus, $mem RAM,${smp:+ $smp CPUs,} ${accel^^} (-cpu $cpu)${accel_note:+; TCG because $accel_note}" >&2
own_records=0
if [ "$com2" = 1 ] && [ -z "$records" ]; then records=$(mktemp); own_records=1; fi
com2_args=()
if [ "$com2" = 1 ]; then : > "$records"; com2_args=(-serial "file:$records"); fi
if [ "$interactive" = 1 ]; then
  echo "run.sh: the serial console follows; Ctrl-A X quits QEMU${records:+; records (COM2) go to $records}" >&2
  "$QEMU" "${args[@]}" -serial mon:stdio "${com2_args[@]}"
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
# --keys and --vga-dump talk to QEMU's human monitor through a FIFO pair (replies to a file).
monitor=(-monitor none)
if [ -n "$keys$vga_dump" ]; then
  mondir=$(mktemp -d)
  mkfifo "$mondir/mon.in" "$mondir/mon.out"
  cat "$mondir/mon.out" > "$mondir/replies" & helpers+=($!)
  monitor+=(-chardev "pipe,id=mon0,path=$mondir/mon" -mon chardev=mon0,mode=readline)
  [ -n "$vga_dump" ] && : > "$vga_dump"
fi
"$QEMU" "${args[@]}" "${serial[@]}" "${com2_args[@]}" "${monitor[@]}" 2> "$log.qemu-stderr" &
pid=$!

mon() { kill -0 "$pid" 2>/dev/null && printf '%s\n' "$@" > "$mondir/mon.in"; }
# Type once the program is starting, as a person at the terminal would: UART set-up is over by
# then (enabling the FIFO resets it, so bytes arriving during that instant could be lost).
wait_ready() {
  for _ in $(seq 6000); do grep -q "starting the program" "$log" 2>/dev/null && return; sleep 0.05; done
}
# Waits until the guest wants key line $1 (see --prompt); false once QEMU has ended.
wait_guest() {
  local size last=-1 quiet=0
  while kill -0 "$pid" 2>/dev/null; do
    if [ -n "$prompt" ]; then
      [ "$(grep -o -F -- "$prompt" "$log" | wc -l)" -ge "$1" ] && return 0
    else
      size=$(stat -c %s "$log")
      if [ "$size" = "$last" ]; then quiet=$((quiet + 1)); [ "$quiet" -ge 10 ] && return 0
      else quiet=0 last=$size; fi
    fi
    sleep 0.1
  done
  return 1
}
# One character -> a QEMU key name (US layout).
plain='`1234567890-=[]\;'"',./" shifted='~!@#$%^&*()_+{}|:"<>?'
names=(grave_accent 1 2 3 4 5 6 7 8 9 0 minus equal bracket_left bracket_right backslash
       semicolon apostrophe comma dot slash)
keyname() {
  local c=$1 before n
  case $c in
    [a-z]) echo "$c"; return ;;
    [A-Z]) echo "shift-${c,,}"; return ;;
    ' ') echo spc; return ;;
    $'\t') echo tab; return ;;
    $'\r') echo ret; return ;;
    $'\b'|$'\x7f') echo backspace; return ;;
    $'\e') echo esc; return ;;
  esac
  before=${plain%%"$c"*}; [ ${#before} -lt ${#plain} ] && { echo "${names[${#before}]}"; return; }
  before=${shifted%%"$c"*}; [ ${#before} -lt ${#shifted} ] && { echo "shift-${names[${#before}]}"; return; }
  printf -v n %d "'$c"
  if [ "$n" -ge 1 ] && [ "$n" -le 26 ]; then printf 'ctrl-\x'"$(printf %x $((n + 96)))"'\n'; return; fi
  echo "run.sh: --keys: no key for byte $n, skipped" >&2
}
# Appends the VGA text screen and the cursor (CRTC 0x0E/0x0F, read through monitor port I/O
# while the guest waits) to $vga_dump, headed "--- vga screen N: $1".
vga_snap() {
  [ -n "$vga_dump" ] && kill -0 "$pid" 2>/dev/null || return 0
  local raw=$mondir/screen.bin n ports hi=0 lo=0
  n=$(($(grep -c '^--- vga screen' "$vga_dump") + 1))
  ports=$(grep -c 'portb\[0x03d5\]' "$mondir/replies")
  rm -f "$raw"
  mon "pmemsave 0xb8000 4000 \"$raw\"" "o /b 0x3d4 0x0e" "i /b 0x3d5" "o /b 0x3d4 0x0f" "i /b 0x3d5"
  for _ in $(seq 200); do
    [ "$(stat -c %s "$raw" 2>/dev/null)" = 4000 ] &&
      [ "$(grep -c 'portb\[0x03d5\]' "$mondir/replies")" -ge $((ports + 2)) ] && break
    sleep 0.05
  done
  read -r hi lo < <(grep -o 'portb\[0x03d5\] = 0x[0-9a-f]*' "$mondir/replies" | tail -2 |
                    sed 's/.*= //' | tr '\n' ' ')
  python3 -c 'import sys
d = open(sys.argv[1], "rb").read()
print(sys.argv[2] if len(d) == 4000 else sys.argv[2] + ": unavailable")
for r in range(25 if len(d) == 4000 else 0):
    print("".join(chr(b) if 32 <= b < 127 else "\\x%02x" % b for b in d[160 * r:160 * r + 160:2]).rstrip())
' "$raw" "--- vga screen $n: $1, cursor row $(((hi * 256 + lo) / 80)) col $(((hi * 256 + lo) % 80))" \
    >> "$vga_dump" 2>/dev/null
}
if [ -n "$input" ]; then
  ( wait_ready; cat "$input" > "$fifo/com1.in" ) & helpers+=($!)
fi
if [ -n "$keys" ]; then
  # One line at a time, each once the guest waits for it; sendkey holds each key 20 ms.
  ( export LC_ALL=C
    wait_ready
    n=0
    while :; do
      IFS= read -r line && nl=1 || { [ -n "$line" ] || break; nl=0; }
      n=$((n + 1))
      wait_guest "$n" || exit 0
      vga_snap "before key line $n"
      cmds=()
      for ((i = 0; i < ${#line}; i++)); do k=$(keyname "${line:i:1}") && [ -n "$k" ] && cmds+=("sendkey $k 20"); done
      [ "$nl" = 1 ] && cmds+=("sendkey ret 20")
      mon "${cmds[@]}"
      [ "$nl" = 1 ] || break
    done < "$keys"
    wait_guest $((n + 1)) && vga_snap "after the last key line"
  ) & helpers+=($!)
fi
status=""
deadline=$((SECONDS + timeout))
while kill -0 "$pid" 2>/dev/null; do
  if grep -q "System halted\." "$log" 2>/dev/null; then
    sleep 0.2; vga_snap "halted"; kill "$pid" 2>/dev/null; status=100; break
  fi
  if [ $SECONDS -ge $deadline ]; then
    vga_snap "timeout"; kill "$pid" 2>/dev/null; status=124
    echo "run.sh: timeout after ${timeout}s" >&2; break
  fi
  sleep 0.1
done
wait "$pid" 2>/dev/null
rc=$?
for h in "${helpers[@]}"; do kill "$h" 2>/dev/null; wait "$h" 2>/dev/null; done
[ -n "$input" ] && rm -rf "$fifo"
[ -n "$keys$vga_dump" ] && rm -rf "$mondir"
tr -d '\r' < "$log"
if [ "$own_records" = 1 ]; then
  [ -s "$records" ] && { echo "run.sh: records (COM2):"; cat "$records"; }
  rm -f "$records"
fi
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
