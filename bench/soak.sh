#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Data-integrity soak (issue "Resilience and security"; not a CTest test): N sender connections push
# deterministic pseudo-random data through the emulator to a listener and back, and SHA-256 is
# checked at both ends of every connection. Prints throughput, each process's CPU and final RSS.
#
# Usage: bench/soak.sh [--connections N] [--total SIZE] [--mode echo|forward] [--plain]
#                      [--max-message SIZE] [--window W] [--stall-seconds S] [--build DIR] [--keep]
#   --connections N   sender connections (default 50)
#   --total SIZE      bytes sent in all, split evenly over the connections; each comes back too
#                     (default 4G; K/M/G suffixes are powers of 1000)
#   --mode echo       `azrelay listen --echo` sends every message back; the sender checks each echoed
#                     message's length and the SHA-256 of everything it sent against everything it got
#   --mode forward    `azrelay listen --forward` to a TCP service that hashes what it receives and
#                     echoes it (tests/integration/fault/soak_peer.js sink): the sender's hash must
#                     also equal the service's hash of that connection
#   --plain           ws:// instead of TLS (the emulator's --plain)
#   --max-message S   message sizes are uniform in 1..S (default 1M)
#   --window W        messages in flight per connection (default 8)
#   --stall-seconds S fail when no byte comes back for S seconds (default 60)
#   --build DIR       build tree (default $AZR_BENCH_BUILD or build/bench-rel; built when missing)
#   --keep            keep the work directory (logs, per-connection JSON lines)
# Needs node >= 20 and `npm ci` in tests/interop (ws 8). Exit status 0 only when every byte came
# back intact.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

conns=50
total=4G
mode=echo
plain=0
max_message=1M
window=8
stall_s=60
build=${AZR_BENCH_BUILD:-build/bench-rel}
keep=0
while [[ $# -gt 0 ]]; do
  case $1 in
  --connections) conns=$2; shift ;;
  --total) total=$2; shift ;;
  --mode) mode=$2; shift ;;
  --plain) plain=1 ;;
  --max-message) max_message=$2; shift ;;
  --window) window=$2; shift ;;
  --stall-seconds) stall_s=$2; shift ;;
  --build) build=$2; shift ;;
  --keep) keep=1 ;;
  -h | --help) sed -n '3,26p' "$0"; exit 0 ;;
  *) echo "soak.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
[[ $mode == echo || $mode == forward ]] || { echo "soak.sh: --mode echo|forward" >&2; exit 2; }

# shellcheck source=lib.sh
source "$ROOT/bench/lib.sh"

# 4G -> 4000000000
bytes_of() {
  local v=$1 m=1
  case $v in
  *[kK]) m=1000; v=${v%?} ;;
  *[mM]) m=1000000; v=${v%?} ;;
  *[gG]) m=1000000000; v=${v%?} ;;
  esac
  [[ $v =~ ^[0-9]+$ ]] || { echo "soak.sh: bad size $1" >&2; exit 2; }
  echo $((v * m))
}
total_bytes=$(bytes_of "$total")
per_conn=$((total_bytes / conns))
max_message_bytes=$(bytes_of "$max_message")
PEER=$ROOT/tests/integration/fault/soak_peer.js

# ---- build and prerequisites ---------------------------------------------------------------------
command -v node >/dev/null || { log "soak.sh: node is required"; exit 1; }
[[ -f tests/interop/node_modules/ws/package.json ]] || { log "soak.sh: run 'npm ci' in tests/interop first (ws 8)"; exit 1; }
case $build in /*) ;; *) build=$ROOT/$build ;; esac
if [[ ! -x $build/azrelay ]]; then
  log "== building $build (RelWithDebInfo)"
  [[ -f $build/CMakeCache.txt ]] ||
    cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DAZR_BUILD_TESTS=OFF -DAZR_BUILD_EXAMPLES=OFF >/dev/null
  cmake --build "$build" -j"$(nproc 2>/dev/null || echo 2)" --target azrelay_cli >/dev/null
fi
AZRELAY=$build/azrelay
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

bench_work_dir soak

# wait_line FILE ERE SECONDS PID
wait_line() {
  local deadline=$((SECONDS + $3))
  while ((SECONDS < deadline)); do
    grep -qE -- "$2" "$1" 2>/dev/null && return 0
    kill -0 "$4" 2>/dev/null || { log "process $4 exited; its output:"; tail -n 20 "$1" "${1%.*}.err" >&2; return 1; }
    sleep 0.1
  done
  log "no '$2' in $1 within $3 s"
  return 1
}

free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close();})'; }

# CPU seconds (utime + stime) of a live process, from /proc/PID/stat.
cpu_s() {
  local f
  read -r -a f <<<"$(sed 's/^.*) //' "/proc/$1/stat")"
  awk -v t=$((f[11] + f[12])) -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", t / hz }'
}
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
hwm_kb() { awk '/^VmHWM:/ { print $2 }' "/proc/$1/status"; }

# ---- the relay and the listener ------------------------------------------------------------------
emu_args=(emulator --port 0 --hc hc1)
if ((plain)); then emu_args+=(--plain); else emu_args+=(--cert-out "$WORK/relay.pem"); fi
"$AZRELAY" "${emu_args[@]}" >"$WORK/emulator.out" 2>"$WORK/emulator.err" &
EMU=$!
pids+=("$EMU")
wait_line "$WORK/emulator.out" '^ready$' 15 "$EMU"
CS=$(sed -n 's/^connection string hc1: //p' "$WORK/emulator.out")
ENDPOINT=$(sed -n 's/^endpoint: //p' "$WORK/emulator.out")
PORT=$(sed -n 's|^endpoint: [a-z]*://[^:]*:\([0-9]*\)/.*|\1|p' "$WORK/emulator.out")
cacert=()
if ((plain)); then scheme=ws; else scheme=wss; cacert=(--cacert "$WORK/relay.pem"); fi

SINK=
if [[ $mode == forward ]]; then
  SINK_PORT=$(free_port)
  node "$PEER" sink --port "$SINK_PORT" >"$WORK/sink.out" 2>"$WORK/sink.err" &
  SINK=$!
  pids+=("$SINK")
  wait_line "$WORK/sink.out" '^listening$' 10 "$SINK"
  "$AZRELAY" listen -c "$CS" "${cacert[@]}" --forward "127.0.0.1:$SINK_PORT" >"$WORK/listener.out" 2>"$WORK/listener.err" &
else
  "$AZRELAY" listen -c "$CS" "${cacert[@]}" --echo >"$WORK/listener.out" 2>"$WORK/listener.err" &
fi
LST=$!
pids+=("$LST")
wait_line "$WORK/listener.err" '^listening$' 15 "$LST"

log "== soak: $conns connections x $per_conn bytes ($mode, ${scheme}, messages 1..$max_message_bytes bytes, window $window) via $ENDPOINT"
procs=("emulator:$EMU" "listener:$LST")
[[ -n $SINK ]] && procs+=("sink:$SINK")
declare -A cpu0
for p in "${procs[@]}"; do cpu0[${p%%:*}]=$(cpu_s "${p#*:}"); done
load0=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- the senders -----------------------------------------------------------------------------------
TOKEN=$("$AZRELAY" token -c "$CS" --ttl 86400)
stream=()
[[ $mode == forward ]] && stream=(--stream)
t0=$(date +%s.%N)
env NODE_EXTRA_CA_CERTS="${cacert[1]:-}" node "$PEER" send --url "$scheme://localhost:$PORT/\$hc/hc1?sb-hc-action=connect" \
  --token "$TOKEN" --connections "$conns" --bytes "$per_conn" --max-message "$max_message_bytes" --window "$window" \
  "${stream[@]}" >"$WORK/send.out" 2>"$WORK/send.err" &
SND=$!
pids+=("$SND")

# Stall detector: the senders print their received total every second.
received() { { grep '"progress":true' "$WORK/send.err" 2>/dev/null || true; } | tail -n 1 | sed -n 's/.*"received":\([0-9]*\).*/\1/p'; }
last=
idle=0
while kill -0 "$SND" 2>/dev/null; do
  sleep 1
  now=$(received)
  if [[ -n $now && $now == "$last" ]]; then idle=$((idle + 1)); else idle=0; fi
  last=$now
  if ((idle >= stall_s)); then
    log "== STALL: nothing came back for $stall_s s (received $now of $total_bytes bytes); connections not done:"
    kill -USR1 "$SND" 2>/dev/null || true
    sleep 1
    grep '"in_flight"' "$WORK/send.err" | grep -v '"state":3' | head -n 10 >&2 || true
    # Who holds the bytes: unread (Recv-Q) and unacknowledged (Send-Q) per process and direction.
    ss -tnp "sport = :$PORT or dport = :$PORT" >"$WORK/stall-sockets.txt" || true
    log "socket queues on the emulator's port, summed per process (full list: stall-sockets.txt):"
    awk -v port=":$PORT" 'NR > 1 {
        match($0, /users:\(\("[^"]*"/); who = substr($0, RSTART + 9, RLENGTH - 10)
        side = (substr($4, length($4) - length(port) + 1) == port) ? "emulator side" : "peer side"
        k = who " (" side ")"; rq[k] += $2; sq[k] += $3; n[k]++ }
      END { for (k in n) printf "  %-40s %4d sockets  Recv-Q %10d  Send-Q %10d\n", k, n[k], rq[k], sq[k] }' \
      "$WORK/stall-sockets.txt" >&2
    kill "$SND" 2>/dev/null || true
    wait "$SND" 2>/dev/null || true
    keep=1
    exit 1
  fi
done
send_rc=0
wait "$SND" || send_rc=$?
t1=$(date +%s.%N)

# ---- verdict and figures -----------------------------------------------------------------------
summary=$(grep '"summary":true' "$WORK/send.out" || true)
bad=$(grep -c '"ok":false' "$WORK/send.out" || true)
if [[ $mode == forward ]]; then
  # The sink prints a connection's hash when its socket closes, shortly after the sender's close.
  for _ in $(seq 100); do (($(grep -c '"sink":true' "$WORK/sink.out") >= conns)) && break; sleep 0.1; done
  # Every connection's sent hash must appear among the sink's hashes (as many times).
  sort <(sed -n 's/.*"sent_sha256":"\([0-9a-f]*\)".*/\1/p' "$WORK/send.out") >"$WORK/sent.sha"
  sort <(sed -n 's/.*"sink":true.*"sha256":"\([0-9a-f]*\)".*/\1/p' "$WORK/sink.out") >"$WORK/sink.sha"
  if ! cmp -s "$WORK/sent.sha" "$WORK/sink.sha"; then
    log "== the sink's hashes differ from the senders' ($(wc -l <"$WORK/sink.sha") vs $(wc -l <"$WORK/sent.sha") connections)"
    send_rc=1
    keep=1
  fi
fi

wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
printf '\n| figure | value |\n|---|---|\n'
printf '| connections x bytes each way | %s x %s (%s, %s) |\n' "$conns" "$per_conn" "$mode" "$scheme"
printf '| wall time | %s s |\n' "$wall"
printf '| throughput (each way) | %s MB/s |\n' "$(awk -v b="$total_bytes" -v w="$wall" 'BEGIN { printf "%.1f", b / 1e6 / w }')"
printf '| connections failed | %s |\n' "${bad:-0}"
for p in "${procs[@]}"; do
  name=${p%%:*} pid=${p#*:}
  c=$(awk -v a="${cpu0[$name]}" -v b="$(cpu_s "$pid")" 'BEGIN { printf "%.1f", b - a }')
  printf '| %s CPU / per GB each way | %s s / %s s |\n' "$name" "$c" "$(awk -v c="$c" -v b="$total_bytes" 'BEGIN { printf "%.2f", c / (b / 1e9) }')"
  printf '| %s RSS final / peak | %s / %s MiB |\n' "$name" "$(($(rss_kb "$pid") / 1024))" "$(($(hwm_kb "$pid") / 1024))"
done
printf '| senders (node) CPU | %s s |\n' "$(sed -n 's/.*"sender_cpu_s":\([0-9.]*\).*/\1/p' <<<"$summary" | awk '{ printf "%.1f", $1 }')"
printf '| load average start / end | %s / %s |\n' "$load0" "$(cut -d' ' -f1-3 /proc/loadavg)"
[[ -n $summary ]] && log "sender: $summary"

if ((send_rc != 0 || ${bad:-0} != 0)); then
  log "== FAILED: see $WORK"
  grep '"ok":false' "$WORK/send.out" | head -n 5 >&2 || true
  keep=1
  exit 1
fi
log "== every connection's SHA-256 matched at both ends"
