# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# Helpers for the forwarding tests (sourced by forward_test.sh): a private temp dir, children in
# their own process groups stopped by PID on exit, free loopback ports, log waits, RSS samples, and
# the emulator, `azrelay listen --forward` and `azrelay connect --local-port`.

SKIP_RC=77
: "${AZRELAY_BIN:?AZRELAY_BIN must name the azrelay binary}"
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

T=$(mktemp -d "${TMPDIR:-/tmp}/azr-forward.XXXXXX")
CHILD_PIDS=()
LAST_PID=

log() { printf '[%s] %s\n' "${CASE:-forward}" "$*" >&2; }
# shellcheck source=../shell/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../shell/common.sh"

need_cmd() { # cmd [package]
  command -v "$1" >/dev/null 2>&1 || skip "$1 not installed (Debian package ${2:-$1})"
}

dump_logs() {
  local f
  for f in "$T"/*.out "$T"/*.err "$T"/*.log; do
    [[ -s $f ]] || continue
    printf '\n----- %s (last 40 lines) -----\n' "${f#"$T"/}" >&2
    tail -n 40 "$f" >&2
  done
}

cleanup() {
  local rc=$? pid
  trap - EXIT
  # Every child leads its own process group (setsid); only those groups are signalled, newest
  # first, so senders and listeners have left before the emulator stops (no shutdown races).
  local i
  {
    for ((i = ${#CHILD_PIDS[@]} - 1; i >= 0; i--)); do
      pid=${CHILD_PIDS[i]}
      kill -0 "$pid" || { wait "$pid" || true; continue; }
      kill -TERM -- "-$pid" || kill -TERM "$pid" || true
      for _ in $(seq 30); do
        kill -0 "$pid" || break
        sleep 0.05
      done
      kill -KILL -- "-$pid" || kill -KILL "$pid" || true
      wait "$pid" || true
    done
  } 2>/dev/null
  # Sanitizer reports of any child (ASan builds) fail the case, also at exit.
  if ((rc == 0)) && grep -lE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$T"/*.err >/dev/null 2>&1; then
    local f
    for f in $(grep -lE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$T"/*.err); do
      log "FAIL: sanitizer report in ${f#"$T"/}:"
      grep -m1 -A40 -E 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$f" >&2
    done
    rc=1
  fi
  if ((rc != 0 && rc != SKIP_RC)); then dump_logs; fi
  rm -rf "$T"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# rss_kib PID: VmRSS of a live process in KiB.
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }

# ---- the azrelay side ----

EMU_PORT=
CS=
CERT="$T/relay.pem"

# start_emulator: hybrid connections hc1 ($CS) and hc2 ($CS2).
start_emulator() {
  start_bg emulator "$AZRELAY_BIN" emulator --port 0 --hc hc1,hc2 --cert-out "$CERT"
  EMU_PID=$LAST_PID
  wait_lines "$T/emulator.out" '^ready$' 1 15 "$EMU_PID" || fail "the emulator did not start"
  CS=$(sed -n 's/^connection string hc1: //p' "$T/emulator.out")
  CS2=$(sed -n 's/^connection string hc2: //p' "$T/emulator.out")
  EMU_PORT=$(sed -n 's|^endpoint: https://[^:]*:\([0-9]*\)/.*|\1|p' "$T/emulator.out")
  [[ -n $CS && -n $CS2 && -n $EMU_PORT ]] || fail "cannot read the emulator's connection strings"
  log "emulator on port $EMU_PORT"
}

# start_forwarder NAME listen-args...: `azrelay listen` on hc1 (add -c "$CS2" for hc2) with its
# stderr in $T/NAME.err, online.
start_forwarder() {
  local name=$1
  shift
  start_bg "$name" "$AZRELAY_BIN" listen -c "$CS" --cacert "$CERT" --log-level 2 "$@"
  LISTENER_PID=$LAST_PID
  wait_lines "$T/$name.err" '^listening$' 1 20 "$LISTENER_PID" || fail "listener $name did not come online"
  local args="$*"
  log "listener $name online: ${args//"$CS2"/\$CS2}"
}

# start_bridge NAME PORT connect-args...: `azrelay connect --local-port PORT` (hc1 unless -c
# follows), accepting.
start_bridge() {
  local name=$1 port=$2
  shift 2
  start_bg "$name" "$AZRELAY_BIN" connect -c "$CS" --cacert "$CERT" --local-port "$port" "$@"
  BRIDGE_PID=$LAST_PID
  wait_port "$port" "$BRIDGE_PID" 15 || fail "bridge $name does not accept on port $port"
  local args="$*"
  log "bridge $name on port $port ${args//"$CS2"/\$CS2}"
}

# start_redis NAME PORT: a throw-away redis-server on loopback (no persistence).
start_redis() {
  local name=$1 port=$2
  mkdir -p "$T/$name"
  start_bg "$name" redis-server --bind 127.0.0.1 --port "$port" --save '' --appendonly no --dir "$T/$name" \
    --protected-mode yes
  REDIS_PID=$LAST_PID
  wait_port "$port" "$REDIS_PID" 15 || fail "redis-server $name did not start"
  log "redis-server $name on port $port"
}

# rcli PORT args...: one redis-cli command (bounded in time), its reply on stdout.
rcli() {
  local port=$1
  shift
  timeout 20 redis-cli -h 127.0.0.1 -p "$port" "$@"
}

# expect_reply WHAT EXPECTED PORT args...: the redis-cli reply must equal EXPECTED.
expect_reply() {
  local what=$1 want=$2 got
  shift 2
  got=$(rcli "$@" 2>&1) || fail "$what: redis-cli failed: $got"
  [[ $got == "$want" ]] || fail "$what: expected '$want', got '$got'"
  log "ok: $what -> $got"
}
