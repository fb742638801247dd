#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# TCP bridge benchmark (issue "Forwarding, the sender role, and the TCP bridge"): redis-benchmark
# SET/GET at pipeline 16 against a redis-server directly, and through the bridge
#   redis-benchmark -> azrelay connect --local-port -> emulator -> azrelay listen --forward -> redis
# with the same client count; prints requests/s both ways and the ratio bridge/direct (goal >= 0.5),
# plus the CPU seconds per 100k requests of every process on the bridged path.
#
# Each run's -n is calibrated so that the run lasts about --seconds (default 5): a short probe run
# measures the rate first. redis-benchmark opens its C connections before the first request; through
# the bridge each of them is a relayed connection (rendezvous at the emulator), which the -n of a
# multi-second run amortizes; the report also gives that set-up time (a run of one pipeline per
# client) so its share can be judged.
#
# Usage: bench/redis_bridge.sh [--quick] [--clients C] [--seconds S] [--rounds R] [--azbridge]
#                              [--report FILE] [--summary FILE] [--keep]
#   --quick     one round of ~3 s per path
#   --clients   redis-benchmark -c (default 50)
#   --seconds   target duration of each run (default 5; runs shorter than 3 s are repeated longer)
#   --rounds    rounds, alternating direct / bridge (default 3); the report gives the median
#   --azbridge  speak azbridge's preamble on the bridge (connect --azbridge-port, listen --forward NAME=)
#   --report    also write the report to FILE;  --keep  keep the work directory (logs)
#   --summary   write the medians to FILE, one "name value" a line (read by bench/run.sh)
# Environment: AZR_BENCH_BUILD (build tree, default build/bench-rel).
# shellcheck source-path=SCRIPTDIR
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

CLIENTS=50
TARGET_S=5
ROUNDS=3
AZBRIDGE=0
report_file=""
summary_file=""
keep=0
while [[ $# -gt 0 ]]; do
  case $1 in
  --quick) TARGET_S=3; ROUNDS=1 ;;
  --clients) CLIENTS=$2; shift ;;
  --seconds) TARGET_S=$2; shift ;;
  --rounds) ROUNDS=$2; shift ;;
  --azbridge) AZBRIDGE=1 ;;
  --report) report_file=$2; shift ;;
  --summary) summary_file=$2; shift ;;
  --keep) keep=1 ;;
  -h | --help) sed -n '3,24p' "$0"; exit 0 ;;
  *) echo "redis_bridge.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
PIPELINE=16
CLK_TCK=$(getconf CLK_TCK)
# shellcheck source=lib.sh
source "$ROOT/bench/lib.sh"
calc() { awk "BEGIN { print $* }"; } # floating-point arithmetic without bc

for cmd in redis-server redis-benchmark redis-cli ss; do
  command -v "$cmd" >/dev/null || { log "redis_bridge.sh: $cmd is missing (scripts/install-deps.sh installs it)"; exit 2; }
done

# ---- build ---------------------------------------------------------------------------------------
bench_build azrelay_cli

# ---- processes (each in its own process group, stopped by PID) -----------------------------------
W=$(mktemp -d "${TMPDIR:-/tmp}/azr-redis-bench.XXXXXX")
PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill -TERM -- "-$p" 2>/dev/null || kill -TERM "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do
    for _ in $(seq 30); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  if ((keep)); then log "== logs kept in $W"; else rm -rf "$W"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

start_bg() { # NAME cmd...
  local name=$1
  shift
  setsid "$@" >"$W/$name.out" 2>"$W/$name.err" </dev/null &
  PIDS+=("$!")
  LAST_PID=$!
}
free_port() {
  local p
  for _ in $(seq 100); do
    p=$((20000 + RANDOM % 40000))
    [[ -z $(ss -Htan "sport = :$p" 2>/dev/null) ]] && { echo "$p"; return 0; }
  done
  return 1
}
wait_for() { # SECONDS PID command...: until the command succeeds
  local deadline=$((SECONDS + $1)) pid=$2
  shift 2
  until "$@"; do
    kill -0 "$pid" 2>/dev/null || { log "process $pid died; logs in $W"; keep=1; exit 1; }
    ((SECONDS < deadline)) || { log "timed out: $*; logs in $W"; keep=1; exit 1; }
    sleep 0.1
  done
}
listening() { [[ -n $(ss -Hltn "sport = :$1" 2>/dev/null) ]]; }

RP=$(free_port)
start_bg redis redis-server --bind 127.0.0.1 --port "$RP" --save '' --appendonly no --dir "$W"
REDIS=$LAST_PID
wait_for 15 "$REDIS" listening "$RP"

start_bg emulator "$AZRELAY" emulator --port 0 --hc hc1 --cert-out "$W/relay.pem"
EMU=$LAST_PID
wait_for 15 "$EMU" grep -qx ready "$W/emulator.out"
CS=$(sed -n 's/^connection string hc1: //p' "$W/emulator.out")

if ((AZBRIDGE)); then
  fwd=(--forward "redis=127.0.0.1:$RP")
  con=(--azbridge-port redis)
else
  fwd=(--forward "127.0.0.1:$RP")
  con=()
fi
start_bg listener "$AZRELAY" listen -c "$CS" --cacert "$W/relay.pem" "${fwd[@]}" --log-level 0
LST=$LAST_PID
BP=$(free_port)
start_bg bridge "$AZRELAY" connect -c "$CS" --cacert "$W/relay.pem" --local-port "$BP" "${con[@]}" -q
BRG=$LAST_PID
wait_for 15 "$BRG" listening "$BP"
# The listener logs errors only, so it does not say when it is online: a PONG through the bridge does.
pong() { [[ $(redis-cli -p "$BP" PING 2>/dev/null) == PONG ]]; }
wait_for 20 "$LST" pong

# ---- runs ----------------------------------------------------------------------------------------
# run PORT N TEST: requests/s of one redis-benchmark test (set or get) and its wall time.
run() {
  local port=$1 n=$2 test=$3 t0 t1 rps
  t0=$(date +%s.%N)
  rps=$(redis-benchmark -h 127.0.0.1 -p "$port" -c "$CLIENTS" -P "$PIPELINE" -n "$n" -t "$test" --csv 2>/dev/null |
    sed -n 's/^"[A-Z]*","\([0-9.]*\)".*/\1/p')
  t1=$(date +%s.%N)
  [[ -n $rps ]] || { log "redis-benchmark gave no figure (port $port, -n $n)"; exit 1; }
  echo "$rps $(calc "$t1 - $t0")"
}

# calibrated PORT TEST: -n for about TARGET_S seconds, from a probe run.
calibrated() {
  local port=$1 test=$2 probe rps n
  probe=$(run "$port" $((CLIENTS * PIPELINE * 40)) "$test")
  rps=${probe%% *}
  n=$(calc "int($rps * $TARGET_S)")
  ((n >= CLIENTS * PIPELINE * 10)) || n=$((CLIENTS * PIPELINE * 10))
  echo "$n"
}

declare -A N
for t in set get; do
  N[direct_$t]=$(calibrated "$RP" $t)
  N[bridge_$t]=$(calibrated "$BP" $t)
done

# Set-up: one pipeline per client through the bridge (connections dominate).
setup=$(run "$BP" $((CLIENTS * PIPELINE)) set)
SETUP_S=${setup#* }

declare -a rows
declare -A RPS
for round in $(seq "$ROUNDS"); do
  for t in set get; do
    for path in direct bridge; do
      port=$RP
      [[ $path == bridge ]] && port=$BP
      n=${N[${path}_$t]}
      c0=(); for p in "$BRG" "$EMU" "$LST" "$REDIS"; do c0+=("$(cpu_ticks "$p")"); done
      res=$(run "$port" "$n" "$t")
      rps=${res%% *} wall=${res#* }
      if (($(calc "$wall < 3"))); then # too short: once more, longer
        n=$(calc "int($n * 4 / $wall)")
        N[${path}_$t]=$n
        c0=(); for p in "$BRG" "$EMU" "$LST" "$REDIS"; do c0+=("$(cpu_ticks "$p")"); done
        res=$(run "$port" "$n" "$t")
        rps=${res%% *} wall=${res#* }
      fi
      cpu=""
      i=0
      for p in "$BRG" "$EMU" "$LST" "$REDIS"; do
        d=$(($(cpu_ticks "$p") - c0[i]))
        cpu+=" $(calc "sprintf(\"%.2f\", $d / $CLK_TCK * 100000 / $n)")"
        i=$((i + 1))
      done
      RPS[${round}_${path}_$t]=$rps
      rows+=("| $round | ${t^^} | $path | $n | $(printf '%.1f' "$wall") | $(printf '%.0f' "$rps") |$(if [[ $path == bridge ]]; then echo "$cpu" | awk '{printf " %s | %s | %s | %s |", $1, $2, $3, $4}'; else echo "$cpu" | awk '{printf " - | - | - | %s |", $4}'; fi)")
      log "round $round $t $path: $(printf '%.0f' "$rps") requests/s (n=$n, ${wall}s)"
    done
  done
done

# Each round's two runs are adjacent in time, so the per-round ratio is the robust figure on a shared
# machine; the report gives its median.
declare -A MED RATIOS
for t in set get; do
  d=() b=() r=()
  for round in $(seq "$ROUNDS"); do
    d+=("${RPS[${round}_direct_$t]}")
    b+=("${RPS[${round}_bridge_$t]}")
    r+=("$(calc "${RPS[${round}_bridge_$t]} / ${RPS[${round}_direct_$t]}")")
  done
  MED[${t}_direct]=$(median "${d[@]}")
  MED[${t}_bridge]=$(median "${b[@]}")
  MED[${t}_ratio]=$(median "${r[@]}")
  RATIOS[$t]=$(printf '%.3f ' "${r[@]}")
done

report() {
  echo "## redis-benchmark through the TCP bridge ($(date -u +%F), $(nproc) cores)"
  echo
  echo "\`redis-benchmark -P $PIPELINE -c $CLIENTS -t set,get\`; bridge = connect --local-port -> emulator (TLS) ->"
  echo "listen --forward$( ((AZBRIDGE)) && echo ' (azbridge preamble)') -> redis-server $(redis-server --version | sed -n 's/.*v=\([0-9.]*\).*/\1/p')."
  echo "Load average at the end: $(cut -d' ' -f1-3 /proc/loadavg). Set-up of $CLIENTS relayed connections"
  echo "(one pipeline per client through the bridge): $(printf '%.2f' "$SETUP_S") s."
  echo
  echo "| round | test | path | -n | wall s | requests/s | CPU s/100k: connect | emulator | listener | redis |"
  echo "|---|---|---|---|---|---|---|---|---|---|"
  printf '%s\n' "${rows[@]}"
  echo
  local t
  for t in set get; do
    echo "- **${t^^}**: direct $(printf '%.0f' "${MED[${t}_direct]}") requests/s, bridge $(printf '%.0f' "${MED[${t}_bridge]}") requests/s (medians); ratio bridge/direct per round ${RATIOS[$t]}-> median **$(printf '%.3f' "${MED[${t}_ratio]}")** (goal >= 0.5)"
  done
}
report | tee "${report_file:-/dev/null}"
if [[ -n $summary_file ]]; then
  for k in set_direct set_bridge set_ratio get_direct get_bridge get_ratio; do echo "$k ${MED[$k]}"; done >"$summary_file"
fi
