# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# Shared by the benchmark scripts (sourced): a scratch directory and the processes started in it, the
# build, and readings of other processes from /proc.

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

# bench_build TARGET...: builds the targets in $BUILD (AZR_BENCH_BUILD, default build/bench-rel; an
# absolute path afterwards), configured RelWithDebInfo without tests when new. Not build/bench: that
# is the bench/ subdirectory of anyone's `cmake -B build` tree. Sets AZRELAY to the CLI.
bench_build() {
  BUILD=${AZR_BENCH_BUILD:-build/bench-rel}
  log "== building $BUILD (RelWithDebInfo)"
  if [[ ! -f $BUILD/CMakeCache.txt ]]; then
    cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DAZR_BUILD_TESTS=OFF -DAZR_BUILD_EXAMPLES=OFF >/dev/null
  fi
  cmake --build "$BUILD" -j"$(nproc 2>/dev/null || echo 2)" --target "$@" >/dev/null
  case $BUILD in /*) ;; *) BUILD=$PWD/$BUILD ;; esac
  AZRELAY=$BUILD/azrelay
}

# /proc/PID/stat fields after the command name (which may contain spaces): field 14 (utime) is the
# 12th after ") ", field 15 (stime) the 13th; both in clock ticks (getconf CLK_TCK).
proc_stat_fields() {
  local stat
  stat=$(<"/proc/$1/stat")
  echo "${stat##*) }"
}
cpu_ticks() { awk '{ print $12 + $13 }' <<<"$(proc_stat_fields "$1")"; } # utime + stime
sys_ticks() { awk '{ print $13 }' <<<"$(proc_stat_fields "$1")"; }        # stime alone
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

# median VALUE...: the median of the numbers given.
median() {
  printf '%s\n' "$@" | grep -v '^$' | sort -g |
    awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
