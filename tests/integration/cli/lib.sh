# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# Helpers for the CLI suites (tests/integration/cli): the forwarding suite's temp dir, process
# handling and emulator (../forward/lib.sh), plus checks of exit codes and stderr lines.

# shellcheck source=../forward/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../forward/lib.sh"

# run_cli NAME [VAR=value ...] -- azrelay-args...: runs the CLI (at most 30 s, stdin from
# $T/NAME.in when it exists, else empty) with stdout and stderr in $T/NAME.out and $T/NAME.err;
# its exit code in RC.
run_cli() {
  local name=$1
  shift
  local env=()
  while [[ $1 != -- ]]; do
    env+=("$1")
    shift
  done
  shift
  local in=/dev/null
  [[ -e $T/$name.in ]] && in=$T/$name.in
  RC=0
  env "${env[@]}" timeout 30 "$AZRELAY_BIN" "$@" <"$in" >"$T/$name.out" 2>"$T/$name.err" || RC=$?
}

# expect NAME CODE ERE [VAR=value ...] -- azrelay-args...: the command exits with CODE and its
# stderr is exactly one line, matching ERE.
expect() {
  local name=$1 code=$2 re=$3
  shift 3
  run_cli "$name" "$@"
  local lines
  lines=$(grep -c '' "$T/$name.err" || true)
  ((RC == code)) || fail "$name: exit $RC, want $code; stderr: $(head -c 600 "$T/$name.err")"
  ((lines == 1)) || fail "$name: want one line on stderr, got $lines: $(head -c 900 "$T/$name.err")"
  grep -qE -- "$re" "$T/$name.err" || fail "$name: stderr does not match '$re': $(cat "$T/$name.err")"
  log "ok: $name -> $code: $(cut -c1-160 "$T/$name.err")"
}

# token_for CONNSTR: a SAS token for its hybrid connection.
token_for() { "$AZRELAY_BIN" token -c "$1"; }

# emu_url PATH: https://localhost:PORT/hc1PATH of the emulator started by start_emulator.
emu_url() { echo "https://localhost:$EMU_PORT/hc1$1"; }
