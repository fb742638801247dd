#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs the relay benchmarks of bench/README.md on this machine and prints a Markdown report:
#   a) emulator throughput and CPU per GB relayed (64 KiB messages one way) against AES-GCM's speed,
#   b) echo listener messages/s and CPU per GB, ours (azrelay listen --echo) vs hyco-ws,
#   c) resident memory per idle connection of the listeners.
# Usage: bench/run.sh [--quick] [--report FILE] [--keep]
#   --quick    a ~1 minute smoke version (smaller volumes, 200 idle connections)
#   --report   also write the Markdown report to FILE
#   --keep     keep the work directory (logs, JSON lines of every process)
# Environment: AZR_BENCH_BUILD (build tree, default build/bench-rel), AZR_BENCH_IDLE (idle connections).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

quick=0
report_file=""
keep=0
while [[ $# -gt 0 ]]; do
  case $1 in
  --quick) quick=1 ;;
  --report) report_file=$2; shift ;;
  --keep) keep=1 ;;
  -h | --help) sed -n '3,12p' "$0"; exit 0 ;;
  *) echo "run.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

# Not build/bench: that is the bench/ subdirectory of anyone's `cmake -B build` tree.
BUILD=${AZR_BENCH_BUILD:-build/bench-rel}
if ((quick)); then
  ONEWAY_BYTES=500000000 # a) total one way
  SPEED_SECONDS=1        # openssl speed
  ECHO_SECONDS=1.5       # b) target length of each run
  MIN_ECHO_SECONDS=0
  IDLE=${AZR_BENCH_IDLE:-200}
else
  ONEWAY_BYTES=2000000000
  SPEED_SECONDS=3
  ECHO_SECONDS=7
  MIN_ECHO_SECONDS=5 # a shorter run of ours is repeated with more messages
  IDLE=${AZR_BENCH_IDLE:-1000}
fi
ONEWAY_CONNS=4
ECHO_CONNS=8
ECHO_WINDOW=16
CLK_TCK=$(getconf CLK_TCK)

# shellcheck source=lib.sh
source "$ROOT/bench/lib.sh"

# ---- build and prerequisites ---------------------------------------------------------------------
log "== building $BUILD (RelWithDebInfo)"
if [[ ! -f $BUILD/CMakeCache.txt ]]; then
  cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DAZR_BUILD_TESTS=OFF -DAZR_BUILD_EXAMPLES=OFF >/dev/null
fi
cmake --build "$BUILD" -j"$(nproc 2>/dev/null || echo 2)" --target azrelay_cli relay_load sink_listener >/dev/null
AZRELAY=$ROOT/$BUILD/azrelay
RELAY_LOAD=$ROOT/$BUILD/bench/relay_load
SINK=$ROOT/$BUILD/bench/sink_listener
if [[ ! -d tests/interop/node_modules/hyco-ws ]]; then
  log "== npm ci in tests/interop (hyco-ws for the comparison listener)"
  (cd tests/interop && npm ci --no-audit --no-fund >/dev/null)
fi
command -v node >/dev/null || { log "run.sh: node is required (the hyco-ws listener)"; exit 1; }
command -v openssl >/dev/null || { log "run.sh: openssl is required (the crypto floor)"; exit 1; }
# 1000 idle connections need about 3 descriptors each in relay_load and 2 in the emulator.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
if (($(ulimit -n) < 5 * IDLE + 100)); then log "run.sh: ulimit -n is $(ulimit -n); need $((5 * IDLE + 100))"; exit 1; fi

bench_work_dir bench

# ---- helpers -------------------------------------------------------------------------------------
wait_for() { # file, extended regex, seconds
  local i
  for ((i = 0; i < $3 * 10; i++)); do
    grep -Eq "$2" "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  log "timed out waiting for '$2' in $1:"
  tail -20 "$1" >&2 || true
  return 1
}
cpu_ticks() { # utime + stime of a process, in clock ticks (fields 14 and 15 of /proc/PID/stat)
  local stat
  stat=$(<"/proc/$1/stat")
  stat=${stat##*) } # the command name may contain spaces; fields restart after ") "
  awk '{ print $12 + $13 }' <<<"$stat"
}
sys_ticks() { # stime alone
  local stat
  stat=$(<"/proc/$1/stat")
  stat=${stat##*) }
  awk '{ print $13 }' <<<"$stat"
}
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
json() { # the value of a numeric or string member of a one-line JSON object
  sed -n "s/.*\"$2\":\"\{0,1\}\([^,\"}]*\).*/\1/p" <<<"$1" | head -1
}
calc() { awk "BEGIN { printf \"%.${2:-3}f\", $1 }"; }
stop() { # pid: SIGTERM and wait
  kill "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}
last_json() { grep '^{' "$1" | tail -1; }

# ---- the machine ---------------------------------------------------------------------------------
cpu_model=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
git diff --quiet HEAD 2>/dev/null || commit="$commit (with uncommitted changes)"
report=$WORK/report.md
{
  echo "# azrelay benchmarks, $(date -u '+%Y-%m-%d %H:%M UTC')$( ((quick)) && echo ' (--quick)')"
  echo
  echo "| machine | |"
  echo "|---|---|"
  echo "| CPUs (nproc) | $(nproc) |"
  echo "| CPU model | ${cpu_model:-unknown} |"
  echo "| kernel | $(uname -r) |"
  echo "| OpenSSL | $(openssl version | cut -d' ' -f1-2) |"
  echo "| Node.js | $(node --version) |"
  echo "| commit | $commit |"
  echo "| load average at start | $(cut -d' ' -f1-3 /proc/loadavg) |"
  echo
} >"$report"

# ---- the emulator --------------------------------------------------------------------------------
log "== starting the emulator"
"$AZRELAY" emulator --port 0 --hc oneway,echo-ours,echo-node,idle-ours,idle-sink,idle-node \
  --cert-out "$WORK/relay.pem" --log-level 0 >"$WORK/emulator.out" 2>"$WORK/emulator.err" &
EMU=$!
pids+=("$EMU")
wait_for "$WORK/emulator.out" '^ready' 20
connstr() { sed -n "s/^connection string $1: //p" "$WORK/emulator.out"; }
CA=$WORK/relay.pem

start_listener() { # kind (ours|sink|node), hybrid connection, log name; sets LISTENER
  local cs
  cs=$(connstr "$2")
  case $1 in
  ours) "$AZRELAY" listen -c "$cs" --cacert "$CA" --echo --log-level 0 >"$WORK/$3.out" 2>"$WORK/$3.err" & ;;
  sink) "$SINK" -c "$cs" --cacert "$CA" >"$WORK/$3.out" 2>"$WORK/$3.err" & ;;
  node) NODE_EXTRA_CA_CERTS=$CA node "$ROOT/bench/node/hyco_echo_listener.js" "$cs" >"$WORK/$3.out" 2>"$WORK/$3.err" & ;;
  esac
  LISTENER=$!
  pids+=("$LISTENER")
  wait_for "$WORK/$3.err" '^listening' 20
}

load() { # hybrid connection, log name, relay_load options...; prints relay_load's JSON line
  local hc=$1 name=$2
  shift 2
  if ! "$RELAY_LOAD" -c "$(connstr "$hc")" --cacert "$CA" "$@" >"$WORK/$name.json" 2>"$WORK/$name.err"; then
    log "relay_load ($name) reported errors:"
    cat "$WORK/$name.err" >&2
    exit 1
  fi
  last_json "$WORK/$name.json"
}

# ---- a) emulator throughput and CPU per GB, against the crypto floor --------------------------------
log "== a) AES-GCM speed (openssl speed, ${SPEED_SECONDS}s each)"
aes_bps() { # cipher -> bytes/s for 16384-byte blocks ("k" = 1000 bytes)
  openssl speed -evp "$1" -bytes 16384 -seconds "$SPEED_SECONDS" 2>/dev/null |
    awk -v c="$(tr '[:lower:]' '[:upper:]' <<<"$1")" '$1 == c { v = $NF; sub(/k$/, "", v); print v * 1000 }'
}
aes128=$(aes_bps aes-128-gcm)
aes256=$(aes_bps aes-256-gcm)
floor128=$(calc "1e9 / $aes128" 4) # CPU seconds per GB
floor256=$(calc "1e9 / $aes256" 4)

log "== a) one way, 64 KiB messages, $(calc "$ONEWAY_BYTES / 1e9" 1) GB through the emulator"
start_listener sink oneway sink
SINK_PID=$LISTENER
per_conn=$(((ONEWAY_BYTES + ONEWAY_CONNS * 65536 - 1) / (ONEWAY_CONNS * 65536)))
e0=$(cpu_ticks "$EMU")
es0=$(sys_ticks "$EMU")
s0=$(cpu_ticks "$SINK_PID")
j=$(load oneway oneway --mode oneway --connections $ONEWAY_CONNS --message-size 64K --messages $per_conn)
e1=$(cpu_ticks "$EMU")
es1=$(sys_ticks "$EMU")
s1=$(cpu_ticks "$SINK_PID")
stop "$SINK_PID"
sink_json=$(last_json "$WORK/sink.out")
bytes=$(json "$j" bytes)
[[ $(json "$sink_json" bytes) == "$bytes" ]] || { log "the sink got $(json "$sink_json" bytes) of $bytes bytes"; exit 1; }
gb=$(calc "$bytes / 1e9" 6)
wall=$(json "$j" wall_s)
emu_cpu=$(calc "($e1 - $e0) / $CLK_TCK" 2)
emu_per_gb=$(calc "$emu_cpu / $gb" 3)
{
  echo "## a) Emulator relay throughput and CPU per GB (64 KiB binary messages, one way)"
  echo
  echo "$ONEWAY_CONNS sender connections (relay_load --mode oneway) → emulator → sink_listener; $(calc "$gb" 2) GB of payload."
  echo
  echo "| measure | value |"
  echo "|---|---|"
  echo "| wall time | ${wall} s |"
  echo "| throughput through the emulator | $(calc "$gb / $wall" 3) GB/s |"
  echo "| emulator CPU | ${emu_cpu} s (system $(calc "($es1 - $es0) / $CLK_TCK" 2) s) → **${emu_per_gb} s per GB** |"
  echo "| sink listener CPU (TLS decrypt + frame parse) | $(calc "($s1 - $s0) / $CLK_TCK" 2) s → $(calc "($s1 - $s0) / $CLK_TCK / $gb" 3) s per GB |"
  echo "| sender CPU (relay_load: mask + TLS encrypt) | $(json "$j" cpu_s) s → $(calc "$(json "$j" cpu_s) / $gb" 3) s per GB |"
  echo "| AES-128-GCM, 16 KiB blocks (openssl speed) | $(calc "$aes128 / 1e9" 3) GB/s → floor ${floor128} s per GB |"
  echo "| AES-256-GCM (the suite TLS 1.3 negotiates here) | $(calc "$aes256 / 1e9" 3) GB/s → ${floor256} s per GB |"
  echo "| **ratio emulator CPU per GB / AES-128-GCM floor** (goal ≤ 3) | **$(calc "$emu_per_gb / $floor128" 2)** |"
  echo "| same ratio against AES-256-GCM | $(calc "$emu_per_gb / $floor256" 2) |"
  echo
  echo "The emulator decrypts, unmasks and re-encrypts every byte, so about 2 is the practical minimum."
  echo
} >>"$report"

# ---- b) echo: ours vs hyco-ws ------------------------------------------------------------------------
log "== b) echo listeners: azrelay listen --echo and hyco-ws"
start_listener ours echo-ours ours-echo
OURS=$LISTENER
start_listener node echo-node node-echo
NODE=$LISTENER
{
  echo "## b) Echo listener: messages/s and listener CPU per GB echoed"
  echo
  echo "relay_load --mode echo, $ECHO_CONNS connections, window $ECHO_WINDOW, the same messages against both"
  echo "listeners on the same emulator. GB echoed = messages × size (each byte is received and sent"
  echo "back by the listener). Message counts are calibrated so our listener runs about ${ECHO_SECONDS} s."
  echo
  echo "| size | listener | messages | wall s | messages/s | listener CPU s | listener CPU s per GB | emulator CPU s per GB |"
  echo "|---|---|---|---|---|---|---|---|"
} >>"$report"
declare -A rate cpu_gb
for size in 1024 65536; do
  # Calibration (and warm-up of both listeners): a short run each; ours sets the message count.
  cal=$((size == 1024 ? (quick ? 1000 : 3000) : (quick ? 100 : 300)))
  jo=$(load echo-ours "cal-ours-$size" --mode echo --connections $ECHO_CONNS --window $ECHO_WINDOW --message-size $size --messages $cal)
  load echo-node "cal-node-$size" --mode echo --connections $ECHO_CONNS --window $ECHO_WINDOW --message-size $size --messages $cal >/dev/null
  m=$(awk -v r="$(json "$jo" msgs_per_s)" -v t="$ECHO_SECONDS" -v n=$ECHO_CONNS 'BEGIN { m = int(r * t / n); print (m < 100 ? 100 : m) }')
  for kind in ours node; do
    if [[ $kind == ours ]]; then pid=$OURS; hc=echo-ours; else pid=$NODE; hc=echo-node; fi
    while :; do
      log "   $kind, $size-byte messages, $ECHO_CONNS x $m"
      l0=$(cpu_ticks "$pid")
      e0=$(cpu_ticks "$EMU")
      j=$(load $hc "echo-$kind-$size" --mode echo --connections $ECHO_CONNS --window $ECHO_WINDOW --message-size $size --messages "$m")
      l1=$(cpu_ticks "$pid")
      e1=$(cpu_ticks "$EMU")
      # A full run of ours lasts at least MIN_ECHO_SECONDS: a short calibration can be optimistic.
      [[ $kind == node ]] || awk -v w="$(json "$j" wall_s)" -v min="$MIN_ECHO_SECONDS" 'BEGIN { exit !(w >= min) }' && break
      m=$(awk -v m="$m" -v w="$(json "$j" wall_s)" -v t="$ECHO_SECONDS" 'BEGIN { print int(m * t / w) + 1 }')
    done
    gb=$(calc "$(json "$j" bytes) / 1e9" 6)
    lcpu=$(calc "($l1 - $l0) / $CLK_TCK" 2)
    rate[$kind$size]=$(json "$j" msgs_per_s)
    cpu_gb[$kind$size]=$(calc "$lcpu / $gb" 3)
    name=$([[ $kind == ours ]] && echo "azrelay listen --echo" || echo "hyco-ws 1.0.5 (Node $(node --version))")
    echo "| $size B | $name | $(json "$j" messages) | $(json "$j" wall_s) | ${rate[$kind$size]} | $lcpu | ${cpu_gb[$kind$size]} | $(calc "($e1 - $e0) / $CLK_TCK / $gb" 3) |" >>"$report"
  done
done
{
  echo
  for size in 1024 65536; do
    echo "- $size B: ours handles $(calc "${rate[ours$size]} / ${rate[node$size]}" 2)× the messages/s of hyco-ws and uses $(calc "${cpu_gb[ours$size]} / ${cpu_gb[node$size]}" 3)× its CPU per GB."
  done
  echo
} >>"$report"
stop "$OURS"
stop "$NODE"

# ---- c) memory per idle connection -------------------------------------------------------------------
log "== c) RSS per idle connection ($IDLE connections)"
{
  echo "## c) Resident memory per idle connection ($IDLE connections, no traffic)"
  echo
  echo "A fresh listener is started; RSS is read (VmRSS) once it is online and again after relay_load has"
  echo "opened $IDLE connections to it and left them idle for 2 s."
  echo
  echo "| listener | RSS online, KiB | RSS with $IDLE idle, KiB | KiB per connection | connect time s | emulator KiB per relayed connection |"
  echo "|---|---|---|---|---|---|"
} >>"$report"
for kind in ours sink node; do
  start_listener $kind "idle-$kind" "idle-$kind"
  pid=$LISTENER
  sleep 1
  r0=$(rss_kib "$pid")
  er0=$(rss_kib "$EMU")
  "$RELAY_LOAD" -c "$(connstr "idle-$kind")" --cacert "$CA" --mode oneway --connections "$IDLE" --messages 0 \
    --hold-seconds 600 >"$WORK/idle-$kind.json" 2>"$WORK/idle-$kind-load.err" &
  rl=$!
  pids+=("$rl")
  wait_for "$WORK/idle-$kind-load.err" '^open [0-9]+' 180
  opened=$(sed -n 's/^open //p' "$WORK/idle-$kind-load.err")
  sleep 2
  r1=$(rss_kib "$pid")
  er1=$(rss_kib "$EMU")
  stop "$rl"
  stop "$pid"
  [[ $opened == "$IDLE" ]] || { log "only $opened of $IDLE idle connections opened"; cat "$WORK/idle-$kind-load.err" >&2; exit 1; }
  j=$(last_json "$WORK/idle-$kind.json")
  case $kind in
  ours) name="azrelay listen --echo" ;;
  sink) name="sink_listener (public API, no echo)" ;;
  node) name="hyco-ws 1.0.5" ;;
  esac
  echo "| $name | $r0 | $r1 | $(calc "($r1 - $r0) / $opened" 1) | $(json "$j" connect_s) | $(calc "($er1 - $er0) / $opened" 1) |" >>"$report"
done
{
  echo
  echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
} >>"$report"

stop "$EMU"
cat "$report"
if [[ -n $report_file ]]; then cp "$report" "$report_file" && log "report written to $report_file"; fi
