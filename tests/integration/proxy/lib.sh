# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# Helpers for the proxy tests (sourced by proxy_test.sh): a private temp dir, children started in
# their own process groups and killed by PID on exit, free loopback ports, waiting for log lines,
# and the emulator, listeners and senders of the azrelay CLI.

SKIP_RC=77
: "${AZRELAY_BIN:?AZRELAY_BIN must name the azrelay binary}"

T=$(mktemp -d "${TMPDIR:-/tmp}/azr-proxy.XXXXXX")
CHILD_PIDS=()
CLEANUP_HOOKS=()
LAST_PID=

log() { printf '[%s] %s\n' "${CASE:-proxy}" "$*" >&2; }
# shellcheck source=../shell/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../shell/common.sh"

need_cmd() { # cmd [package]
  command -v "$1" >/dev/null 2>&1 || [[ -x $1 ]] || skip "$1 not installed (Debian package ${2:-$1})"
}

# Every file we wrote, for the post-mortem of a failed case.
dump_logs() {
  local f
  for f in "$T"/*.out "$T"/*.err "$T"/*.log "$T"/*/*.log; do
    [[ -s $f ]] || continue
    printf '\n----- %s (last 40 lines) -----\n' "${f#"$T"/}" >&2
    tail -n 40 "$f" >&2
  done
}

cleanup() {
  local rc=$? pid hook
  trap - EXIT
  # Each child leads its own process group (setsid): the group also holds its helpers
  # (squid's auth helpers, dante's children, ssh's ProxyCommand).
  for pid in "${CHILD_PIDS[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true; done
  {
    for pid in "${CHILD_PIDS[@]}"; do
      for _ in $(seq 30); do
        kill -0 "$pid" || break
        sleep 0.1
      done
      kill -KILL -- "-$pid" || kill -KILL "$pid" || true
      wait "$pid" || true
    done
  } 2>/dev/null
  for hook in "${CLEANUP_HOOKS[@]}"; do eval "$hook" || true; done
  if ((rc != 0 && rc != SKIP_RC)); then dump_logs; fi
  rm -rf "$T"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# stop_pid PID: SIGTERM to its group, then wait for it (SIGKILL after 5 s).
stop_pid() {
  local pid=$1
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 50); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL -- "-$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

# expect_count FILE ERE N WHAT: exactly N matching lines (waits up to 10 s for late log writes).
expect_count() {
  local file=$1 re=$2 n=$3 what=$4 have
  wait_lines "$file" "$re" "$n" 10 >/dev/null 2>&1 || true
  have=$(count_lines "$file" "$re")
  ((have == n)) || fail "$what: expected $n line(s) matching '$re' in ${file#"$T"/}, found $have"
  log "ok: $what ($n x '$re')"
}

# ---- the azrelay side ----

EMU_PORT=
# The hosts a proxy sees for the relay: the namespace (localhost) and the gateway host of rendezvous
# addresses (127.0.0.1, see docs/EMULATOR.md), as an extended regular expression.
RELAY_HOSTS='(localhost|127\.0\.0\.1)'
CS=
CERT="$T/relay.pem"

start_emulator() {
  start_bg emulator "$AZRELAY_BIN" emulator --port 0 --hc hc1 --cert-out "$CERT"
  wait_lines "$T/emulator.out" '^ready$' 1 15 "$LAST_PID" || fail "the emulator did not start"
  CS=$(sed -n 's/^connection string hc1: //p' "$T/emulator.out")
  EMU_PORT=$(sed -n 's|^endpoint: https://[^:]*:\([0-9]*\)/.*|\1|p' "$T/emulator.out")
  [[ -n $CS && -n $EMU_PORT ]] || fail "cannot read the emulator's connection string"
  log "emulator on port $EMU_PORT"
}

# start_listener NAME [--set Name=Value ...]: an echo listener; its stderr is $T/NAME.err.
start_listener() {
  local name=$1
  shift
  start_bg "$name" "$AZRELAY_BIN" listen -c "$CS" --cacert "$CERT" --echo --log-level 2 \
    --set ReconnectDelayFirstMs=200 --set ReconnectDelayMaxMs=1000 "$@"
}

# expect_online NAME PID: the listener's control channel opened.
expect_online() {
  wait_lines "$T/$1.err" '^listening$' 1 20 "$2" || fail "listener $1 did not come online"
  log "ok: listener $1 online"
}

# send_echo NAME MESSAGE [connect args...]: a sender sends MESSAGE and must get it back.
send_echo() {
  local name=$1 msg=$2 rc=0
  shift 2
  printf '%s\n' "$msg" | timeout 30 "$AZRELAY_BIN" connect -c "$CS" --cacert "$CERT" "$@" \
    >"$T/$name.out" 2>"$T/$name.err" || rc=$?
  ((rc == 0)) || fail "sender $name exited with $rc: $(tr '\n' ' ' <"$T/$name.err")"
  grep -qxF -- "$msg" "$T/$name.out" || fail "sender $name did not get its echo back"
  log "ok: sender $name exchanged '$msg'"
}

# send_refused NAME ERE [connect args...]: the sender must fail with a message matching ERE.
send_refused() {
  local name=$1 re=$2 rc=0
  shift 2
  printf 'never\n' | timeout 30 "$AZRELAY_BIN" connect -c "$CS" --cacert "$CERT" "$@" \
    >"$T/$name.out" 2>"$T/$name.err" || rc=$?
  ((rc != 0)) || fail "sender $name succeeded but should have been refused"
  grep -qE -- "$re" "$T/$name.err" || fail "sender $name: error does not match '$re': $(tr '\n' ' ' <"$T/$name.err")"
  log "ok: sender $name refused: $(grep -E -- "$re" "$T/$name.err" | head -n 1)"
}

# expect_refused_retrying NAME PID ERE: the listener reports ERE at least twice (it keeps retrying).
expect_refused_retrying() {
  wait_lines "$T/$1.err" "^control channel: .*$3" 2 20 "$2" || fail "listener $1 did not report '$3' repeatedly"
  kill -0 "$2" 2>/dev/null || fail "listener $1 exited instead of retrying"
  log "ok: listener $1 keeps retrying: $(grep -E "^control channel: .*$3" "$T/$1.err" | head -n 1)"
}
