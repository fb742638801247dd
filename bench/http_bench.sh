#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# HTTP mode benchmark (§7): requests/s of `azrelay listen --http-echo` against Microsoft's hyco-https
# listener (bench/node/hyco_https_echo.js), both on one emulator in one run under the same load:
# keep-alive POSTs of BODY bytes over CONNS connections with a ServiceBusAuthorization header, every
# response checked (status 200, echoed length). Rounds alternate ours/hyco-https. A second phase
# sends requests one at a time over one connection (latency and per-request CPU at low load).
# Prints a Markdown report: requests/s, the ratio, latency, and CPU seconds per 10k requests of each
# listener and of the emulator (utime+stime from /proc/PID/stat).
#
# Usage: bench/http_bench.sh [--quick] [--requests N] [--seconds S] [--conns C] [--body BYTES]
#                            [--rounds R] [--serial N] [--wrk | --node] [--report FILE] [--summary FILE]
#                            [--keep]
#   --quick     ~40 s smoke run
#   --requests  Node generator: requests per round and listener (default 20000)
#   --seconds   wrk: seconds per round and listener (default 10)
#   --conns     concurrent keep-alive connections (default 32)
#   --body      request (and response) body size (default 1024)
#   --rounds    rounds per listener (default 3)
#   --serial    requests of the one-at-a-time phase (default 2000; 0 skips it)
#   --wrk       load from wrk, installed with apt-get when missing (the default when wrk is installed:
#               the Node generator saturates a core at about 2k requests/s, below both listeners)
#   --node      load from the Node https generator even when wrk is installed
#   --report    also write the report to FILE;  --keep  keep the work directory (logs)
#   --summary   write the medians to FILE, one "name value" a line (read by bench/run.sh)
# Environment: AZR_BENCH_BUILD (build tree, default build/bench-rel).
# shellcheck source-path=SCRIPTDIR
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

REQUESTS=20000
SECONDS_PER_ROUND=10
CONNS=32
BODY=1024
ROUNDS=3
SERIAL=2000
use_wrk=""
report_file=""
summary_file=""
keep=0
while [[ $# -gt 0 ]]; do
  case $1 in
  --quick) REQUESTS=3000; SECONDS_PER_ROUND=4; ROUNDS=2; SERIAL=500 ;;
  --requests) REQUESTS=$2; shift ;;
  --seconds) SECONDS_PER_ROUND=$2; shift ;;
  --serial) SERIAL=$2; shift ;;
  --conns) CONNS=$2; shift ;;
  --body) BODY=$2; shift ;;
  --rounds) ROUNDS=$2; shift ;;
  --wrk) use_wrk=1 ;;
  --node) use_wrk=0 ;;
  --report) report_file=$2; shift ;;
  --summary) summary_file=$2; shift ;;
  --keep) keep=1 ;;
  -h | --help) sed -n '3,26p' "$0"; exit 0 ;;
  *) echo "http_bench.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
WARMUP=$((REQUESTS / 10 < 500 ? 500 : REQUESTS / 10))
CLK_TCK=$(getconf CLK_TCK)
# shellcheck source=lib.sh
source "$ROOT/bench/lib.sh"

# ---- build and prerequisites ---------------------------------------------------------------------
bench_build azrelay_cli
if [[ ! -d tests/interop/node_modules/hyco-https ]]; then
  log "== npm ci in tests/interop (hyco-https for the comparison listener)"
  (cd tests/interop && npm ci --no-audit --no-fund >/dev/null)
fi
if [[ -z $use_wrk ]]; then
  if command -v wrk >/dev/null; then use_wrk=1; else use_wrk=0; log "== wrk is not installed: Node load generator (--wrk installs wrk)"; fi
fi
if ((use_wrk)) && ! command -v wrk >/dev/null; then
  log "== installing wrk"
  sudo_cmd=""
  [[ $(id -u) -ne 0 ]] && sudo_cmd=sudo
  $sudo_cmd apt-get install -y -q wrk >/dev/null
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/azr-http-bench.XXXXXX")
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if ((keep)); then log "work directory kept: $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

wait_for_line() { # file, pattern, seconds
  local i
  for ((i = 0; i < $3 * 10; i++)); do
    grep -q "$2" "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  log "no '$2' in $1 after $3 s:"; tail -20 "$1" >&2
  return 1
}

# ---- emulator and listeners ----------------------------------------------------------------------
"$AZRELAY" emulator --port 0 --hc http-ours,http-hyco --cert-out "$WORK/relay.pem" >"$WORK/emulator.out" 2>"$WORK/emulator.log" &
EMU=$!
PIDS+=("$EMU")
wait_for_line "$WORK/emulator.out" '^ready' 20
PORT=$(sed -n 's|^endpoint: https://[^:]*:\([0-9]*\)/.*|\1|p' "$WORK/emulator.out")
CS_OURS=$(sed -n 's/^connection string http-ours: //p' "$WORK/emulator.out")
CS_HYCO=$(sed -n 's/^connection string http-hyco: //p' "$WORK/emulator.out")
TOKEN_OURS=$("$AZRELAY" token -c "$CS_OURS")
TOKEN_HYCO=$("$AZRELAY" token -c "$CS_HYCO")

# -q: no line per request on stderr (the hyco-https listener prints none either); readiness is
# checked with a request below.
"$AZRELAY" listen -c "$CS_OURS" --cacert "$WORK/relay.pem" --http-echo -q 2>"$WORK/ours.log" &
OURS=$!
PIDS+=("$OURS")
NODE_EXTRA_CA_CERTS="$WORK/relay.pem" node bench/node/hyco_https_echo.js "$CS_HYCO" >"$WORK/hyco.json" 2>"$WORK/hyco.log" &
HYCO=$!
PIDS+=("$HYCO")
wait_for_line "$WORK/hyco.log" '^listening' 20
for ((i = 0; i < 100; i++)); do
  code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$WORK/relay.pem" -H "ServiceBusAuthorization: $TOKEN_OURS" \
    "https://localhost:$PORT/http-ours/ready" || true)
  [[ $code == 200 ]] && break
  sleep 0.1
done
[[ $code == 200 ]] || { log "our listener did not come online"; cat "$WORK/ours.log" >&2; exit 1; }

# ---- load generators -------------------------------------------------------------------------------
# Node: N POSTs over C keep-alive sockets; prints one JSON line (requests/s, errors, latency).
cat >"$WORK/load.js" <<'EOF'
'use strict';
const https = require('node:https');
const [url, token, total, conns, size] = [process.argv[2], process.argv[3], ...process.argv.slice(4).map(Number)];
const agent = new https.Agent({ keepAlive: true, maxSockets: conns });
const body = Buffer.alloc(size, 0x61);
const lat = [];
let sent = 0, done = 0, errors = 0;
const t0 = process.hrtime.bigint();
function finish() {
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  lat.sort((a, b) => a - b);
  const q = (p) => (lat.length ? lat[Math.min(lat.length - 1, Math.floor(p * lat.length))] : 0);
  process.stdout.write(JSON.stringify({ requests: done, seconds: s, rps: done / s, errors,
    p50_ms: q(0.5), p99_ms: q(0.99) }) + '\n');
  agent.destroy();
}
function one() {
  if (sent >= total) return;
  sent++;
  const start = process.hrtime.bigint();
  const end = (ok) => {
    if (!ok) errors++;
    lat.push(Number(process.hrtime.bigint() - start) / 1e6);
    if (++done === total) finish();
    else one();
  };
  const req = https.request(url, { method: 'POST', agent, headers: {
    ServiceBusAuthorization: token, 'Content-Type': 'application/octet-stream', 'Content-Length': size } }, (res) => {
    let n = 0;
    res.on('data', (c) => (n += c.length));
    res.on('end', () => end(res.statusCode === 200 && n === size));
    res.on('error', () => end(false));
  });
  req.on('error', () => end(false));
  req.end(body);
}
for (let i = 0; i < conns; i++) one();
EOF
node_load() { # url token requests (connections from $CONNS)
  NODE_EXTRA_CA_CERTS="$WORK/relay.pem" node "$WORK/load.js" "$1" "$2" "$3" "$CONNS" "$BODY"
}
if ((use_wrk)); then
  head -c "$BODY" /dev/zero | tr '\0' a >"$WORK/body"
  cat >"$WORK/post.lua" <<EOF
wrk.method = "POST"
local f = io.open("$WORK/body", "rb"); wrk.body = f:read("*a"); f:close()
wrk.headers["Content-Type"] = "application/octet-stream"
EOF
fi
wrk_load() { # url token seconds -> the same JSON shape as load.js (latency from wrk's percentiles)
  local out
  out=$(wrk -t1 -c"$CONNS" -d"$3"s --latency -s "$WORK/post.lua" -H "ServiceBusAuthorization: $2" "$1")
  awk -v out="$out" 'BEGIN {
    n = split(out, l, "\n"); req = 0; sec = 0; err = 0; p50 = 0; p99 = 0
    for (i = 1; i <= n; i++) {
      if (l[i] ~ /requests in/) { split(l[i], a, " "); req = a[1]; sec = a[4]; sub(/s,?$/, "", sec) }
      if (l[i] ~ /Non-2xx|Socket errors/) { m = l[i]; gsub(/[^0-9 ]/, " ", m); k = split(m, b, " "); for (j = 1; j <= k; j++) err += b[j] }
      if (l[i] ~ /^ +50%/) { split(l[i], a, " "); p50 = a[2] }
      if (l[i] ~ /^ +99%/) { split(l[i], a, " "); p99 = a[2] }
    }
    printf "{\"requests\":%d,\"seconds\":%s,\"rps\":%f,\"errors\":%d,\"p50\":\"%s\",\"p99\":\"%s\"}\n", req, sec, req / sec, err, p50, p99
  }'
}
jget() { node -e 'const o = JSON.parse(process.argv[1]); const v = o[process.argv[2]]; process.stdout.write(typeof v === "number" ? String(Math.round(v * 100) / 100) : String(v))' "$1" "$2"; }

# ---- rounds ---------------------------------------------------------------------------------------
URL_OURS="https://localhost:$PORT/http-ours/bench"
URL_HYCO="https://localhost:$PORT/http-hyco/bench"
log "== warm-up ($WARMUP requests each)"
node_load "$URL_OURS" "$TOKEN_OURS" "$WARMUP" >/dev/null
node_load "$URL_HYCO" "$TOKEN_HYCO" "$WARMUP" >/dev/null
declare -A RPS CPU
rows=()
one_round() { # label kind mode(load|serial)
  local label=$1 kind=$2 mode=$3 url tok pid res l0 l1 e0 e1 n lcpu ecpu lat
  if [[ $kind == ours ]]; then url=$URL_OURS tok=$TOKEN_OURS pid=$OURS; else url=$URL_HYCO tok=$TOKEN_HYCO pid=$HYCO; fi
  l0=$(cpu_ticks "$pid"); e0=$(cpu_ticks "$EMU")
  if [[ $mode == serial ]]; then
    res=$(CONNS=1 node_load "$url" "$tok" "$SERIAL")
  elif ((use_wrk)); then
    res=$(wrk_load "$url" "$tok" "$SECONDS_PER_ROUND")
  else
    res=$(node_load "$url" "$tok" "$REQUESTS")
  fi
  l1=$(cpu_ticks "$pid"); e1=$(cpu_ticks "$EMU")
  n=$(jget "$res" requests)
  lcpu=$(awk -v d=$((l1 - l0)) -v n="$n" -v t="$CLK_TCK" 'BEGIN { printf "%.2f", n ? d / t / n * 10000 : 0 }')
  ecpu=$(awk -v d=$((e1 - e0)) -v n="$n" -v t="$CLK_TCK" 'BEGIN { printf "%.2f", n ? d / t / n * 10000 : 0 }')
  if [[ $mode == load ]]; then
    RPS[$kind]+="$(jget "$res" rps) "
    CPU[$kind]+="$lcpu "
  else
    RPS[serial-$kind]=$(jget "$res" rps)
    CPU[serial-$kind]=$lcpu
  fi
  if [[ $mode == load ]] && ((use_wrk)); then lat="$(jget "$res" p50) / $(jget "$res" p99)"; else lat="$(jget "$res" p50_ms) / $(jget "$res" p99_ms) ms"; fi
  rows+=("| $label | $kind | $n | $(jget "$res" errors) | $(jget "$res" rps) | $lat | $lcpu | $ecpu |")
  log "   $label $kind: $res listener_cpu_per_10k=$lcpu emulator_cpu_per_10k=$ecpu"
}
for ((r = 1; r <= ROUNDS; r++)); do
  for kind in ours hyco; do one_round "$r" "$kind" load; done
done
if ((SERIAL > 0)); then
  for kind in ours hyco; do one_round "serial" "$kind" serial; done
fi

# shellcheck disable=SC2086 # the lists are space-separated numbers
{
  rps_ours=$(median ${RPS[ours]}) rps_hyco=$(median ${RPS[hyco]})
  cpu_ours=$(median ${CPU[ours]}) cpu_hyco=$(median ${CPU[hyco]})
}
ratio=$(awk -v a="$rps_ours" -v b="$rps_hyco" 'BEGIN { printf "%.2f", b ? a / b : 0 }')
cpu_ratio=$(awk -v a="$cpu_ours" -v b="$cpu_hyco" 'BEGIN { printf "%.2f", a ? b / a : 0 }')
if ((SERIAL > 0)); then
  serial_ratio=$(awk -v a="${RPS[serial-ours]}" -v b="${RPS[serial-hyco]}" 'BEGIN { printf "%.2f", b ? a / b : 0 }')
  serial_cpu_ratio=$(awk -v a="${CPU[serial-ours]}" -v b="${CPU[serial-hyco]}" 'BEGIN { printf "%.2f", a ? b / a : 0 }')
fi

report() {
  echo "### HTTP mode: azrelay listen --http-echo vs hyco-https ($(date -u +%Y-%m-%d))"
  echo
  echo "$(nproc) CPUs ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)); load:" \
    "$( ((use_wrk)) && echo "wrk, $SECONDS_PER_ROUND s per round" || echo "Node https, $REQUESTS requests per round")," \
    "$CONNS keep-alive connections, $BODY B POST bodies echoed$( ((SERIAL > 0)) && echo "; serial: $SERIAL requests one at a time (Node https)")." \
    "The emulator, both listeners and the load generator share the machine; load average at the end:" \
    "$(cut -d' ' -f1-3 /proc/loadavg)."
  echo
  echo "| round | listener | requests | errors | requests/s | latency p50 / p99 | listener CPU s / 10k req | emulator CPU s / 10k req |"
  echo "|---|---|---|---|---|---|---|---|"
  printf '%s\n' "${rows[@]}"
  echo
  echo "Under load (median of $ROUNDS rounds): ours **$rps_ours** requests/s, hyco-https **$rps_hyco**: ratio **${ratio}x**;" \
    "listener CPU per 10k requests: ours **${cpu_ours} s**, hyco-https **${cpu_hyco} s** (hyco-https uses **${cpu_ratio}x** ours)."
  if ((SERIAL > 0)); then
    echo "One at a time: ours **${RPS[serial-ours]}** requests/s, hyco-https **${RPS[serial-hyco]}**: ratio **${serial_ratio}x**;" \
      "listener CPU per 10k requests: ours **${CPU[serial-ours]} s**, hyco-https **${CPU[serial-hyco]} s** (**${serial_cpu_ratio}x**)."
  fi
}
report
if [[ -n $report_file ]]; then report >"$report_file"; fi
if [[ -n $summary_file ]]; then
  {
    echo "generator $( ((use_wrk)) && echo wrk || echo node)"
    echo "rps_ours $rps_ours"
    echo "rps_hyco $rps_hyco"
    echo "cpu10k_ours $cpu_ours"
    echo "cpu10k_hyco $cpu_hyco"
    if ((SERIAL > 0)); then
      echo "serial_rps_ours ${RPS[serial-ours]}"
      echo "serial_rps_hyco ${RPS[serial-hyco]}"
      echo "serial_cpu10k_ours ${CPU[serial-ours]}"
      echo "serial_cpu10k_hyco ${CPU[serial-hyco]}"
    fi
  } >"$summary_file"
fi
