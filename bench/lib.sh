# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# Shared by the benchmark scripts (sourced): a scratch directory and the processes started in it.

log() { printf '%s\n' "$*" >&2; }

# The scripts read the CLI's stderr lines as they are (no timestamps).
export AZRELAY_LOG_FORMAT=plain

# bench_work_dir NAME: creates $WORK and arranges that on exit every PID in pids[] is stopped and
# $WORK removed (kept when keep=1).
bench_work_dir() {
  WORK=$(mktemp -d "${TMPDIR:-/tmp}/azr-$1.XXXXXX")
  pids=()
  trap bench_cleanup EXIT
  trap 'exit 130' INT TERM
}

bench_cleanup() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  if ((${keep:-0})); then log "work directory kept: $WORK"; else rm -rf "$WORK"; fi
}
