#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs the relay benchmarks of bench/README.md on this machine and prints one Markdown report with
# every comparison (ours, theirs, ratio), the goals of issue 16 (met or not) and gnuplot plots:
#   emulator  throughput and CPU per GB relayed (64 KiB one way) against AES-GCM's speed
#   echo      echo by message size (1 KiB .. 1 MiB): messages/s, MB/s, listener CPU per GB and system
#             calls per echoed message, azrelay listen --echo vs hyco-ws
#   accept    new senders per second (each echoes once and closes) and listener CPU per accept, vs
#             hyco-ws, next to the cost of one TLS handshake's public-key operations per curve
#   http      requests/s and listener CPU per request, listen --http-echo vs hyco-https (http_bench.sh)
#   redis     redis-benchmark through connect --local-port + listen --forward vs direct (redis_bridge.sh)
#   conns     listener RSS by idle connection count (up to what the emulator's descriptors allow)
# Usage: bench/run.sh [--quick] [--only LIST] [--report FILE] [--keep]
#   --quick    a few minutes: shorter runs, fewer senders, connection counts up to 1000
#   --only     comma-separated scenarios of the list above (default: all)
#   --report   also write the report to FILE, and the plots beside it (FILE without .md, -NAME.png)
#   --keep     keep the work directory (logs, JSON lines of every process, plot data)
# Environment: AZR_BENCH_BUILD (build tree, default build/bench-rel), AZR_BENCH_CONN_STEPS (the
# connection counts of "conns", e.g. "0 500 1000 max"), AZR_BENCH_CHURN (senders of "accept"),
# AZR_BENCH_SIZES (message sizes of "echo", bytes).
# shellcheck source-path=SCRIPTDIR
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

quick=0
report_file=""
keep=0
only="emulator,echo,accept,http,redis,conns"
while [[ $# -gt 0 ]]; do
  case $1 in
  --quick) quick=1 ;;
  --only) only=$2; shift ;;
  --report) report_file=$2; shift ;;
  --keep) keep=1 ;;
  -h | --help) sed -n '3,20p' "$0"; exit 0 ;;
  *) echo "run.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
for s in ${only//,/ }; do
  [[ ,emulator,echo,accept,http,redis,conns, == *,$s,* ]] || { echo "run.sh: unknown scenario $s" >&2; exit 2; }
done
wanted() { [[ ,$only, == *,$1,* ]]; }

ECHO_SIZES=${AZR_BENCH_SIZES:-1024 4096 16384 65536 262144 1048576}
ECHO_CONNS=8
ECHO_WINDOW=16
ONEWAY_CONNS=4
CHURN_CONCURRENCY=32
if ((quick)); then
  ONEWAY_BYTES=500000000 # emulator: total one way
  SPEED_SECONDS=1        # openssl speed
  ECHO_SECONDS=1         # echo: target length of each run
  MIN_ECHO_SECONDS=0
  CAL_SCALE=1 # calibration run size
  CHURN=${AZR_BENCH_CHURN:-400}
  CONN_STEPS=${AZR_BENCH_CONN_STEPS:-0 250 500 1000}
  SCRIPT_OPTS=(--quick) # http_bench.sh, redis_bridge.sh
else
  ONEWAY_BYTES=2000000000
  SPEED_SECONDS=3
  ECHO_SECONDS=7
  MIN_ECHO_SECONDS=5 # a shorter run of ours is repeated with more messages
  CAL_SCALE=3
  CHURN=${AZR_BENCH_CHURN:-2000}
  CONN_STEPS=${AZR_BENCH_CONN_STEPS:-0 500 1000 2000 5000 max}
  SCRIPT_OPTS=()
fi
CLK_TCK=$(getconf CLK_TCK)

# shellcheck source=lib.sh
source "$ROOT/bench/lib.sh"
# shellcheck source=run_lib.sh
source "$ROOT/bench/run_lib.sh"

# ---- build and prerequisites ---------------------------------------------------------------------
bench_build azrelay_cli relay_load sink_listener
RELAY_LOAD=$BUILD/bench/relay_load
SINK=$BUILD/bench/sink_listener
if [[ ! -d tests/interop/node_modules/hyco-ws || ! -d tests/interop/node_modules/hyco-https ]]; then
  log "== npm ci in tests/interop (hyco-ws and hyco-https for the comparison listeners)"
  (cd tests/interop && npm ci --no-audit --no-fund >/dev/null)
fi
command -v node >/dev/null || { log "run.sh: node is required (the hyco-ws listener)"; exit 1; }
command -v openssl >/dev/null || { log "run.sh: openssl is required (the crypto floor)"; exit 1; }
# Every relayed connection costs the emulator 2 descriptors and relay_load about 3: the hard limit
# decides how many connections "conns" can open.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
if (($(ulimit -n) < 4096)); then log "run.sh: ulimit -n is $(ulimit -n); need at least 4096"; exit 1; fi
syscall_counter_init

bench_work_dir bench
report_header

# ---- the emulator (one for every scenario of this script) ----------------------------------------
# MaxConnections counts listeners, senders and relayed pairs per namespace (default 5000): "conns"
# needs about twice its connection count.
log "== starting the emulator"
"$AZRELAY" emulator --port 0 --hc oneway,echo-ours,echo-node,accept-ours,accept-node,conns-ours,conns-node \
  --set MaxConnections=100000 --cert-out "$WORK/relay.pem" --log-level 0 >"$WORK/emulator.out" 2>"$WORK/emulator.err" &
EMU=$!
pids+=("$EMU")
wait_for "$WORK/emulator.out" '^ready' 20
CA=$WORK/relay.pem

# shellcheck source=scenarios/emulator.sh
source "$ROOT/bench/scenarios/emulator.sh"
# shellcheck source=scenarios/echo.sh
source "$ROOT/bench/scenarios/echo.sh"
# shellcheck source=scenarios/accept.sh
source "$ROOT/bench/scenarios/accept.sh"
# shellcheck source=scenarios/http.sh
source "$ROOT/bench/scenarios/http.sh"
# shellcheck source=scenarios/redis.sh
source "$ROOT/bench/scenarios/redis.sh"
# shellcheck source=scenarios/conns.sh
source "$ROOT/bench/scenarios/conns.sh"
for s in emulator echo accept http redis conns; do
  if wanted "$s"; then "scenario_$s"; fi
done
stop "$EMU"

report_comparisons
report_goals
plot_all
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$report"
cat "$report"
if [[ -n $report_file ]]; then cp "$report" "$report_file" && log "report written to $report_file"; fi
