#!/usr/bin/env bash
# Fuzzing campaign: builds every fuzz target with clang + libFuzzer (ASan + UBSan) and runs each for
# SECONDS (default 60) on a scratch copy of its seed corpus, in parallel up to JOBS (default nproc).
# New inputs stay in build-fuzz/corpus/<target>; crashes are kept as build-fuzz/crash-<target>-*.
# Exits non-zero when any target found a crash, leak or timeout, failed to start or ran no input
# (so CI can run it briefly).
# usage: fuzz/run.sh [SECONDS] [target ...]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
./scripts/install-deps.sh
cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo -DAZR_BUILD_FUZZ=ON \
  -DAZR_BUILD_TESTS=OFF -DAZR_BUILD_BENCH=OFF -DAZR_BUILD_EXAMPLES=OFF >/dev/null
targets=("$@")
if ((${#targets[@]} == 0)); then
  for f in fuzz/fuzz_*.c; do t=${f#fuzz/fuzz_}; targets+=("${t%.c}"); done
fi
# Only the fuzz binaries: the library objects carry fuzzer instrumentation that the CLI does not link.
cmake --build build-fuzz -j"$(nproc)" --target "${targets[@]/#/fuzz_}" >/dev/null
jobs=${JOBS:-$(nproc)}
run_one() {
  local t=$1 dir=build-fuzz/corpus/$1
  mkdir -p "$dir"
  cp -n fuzz/corpus/"$t"/* "$dir"/ 2>/dev/null || true
  local rc=0
  build-fuzz/fuzz/fuzz_"$t" -max_total_time="$seconds" -rss_limit_mb=4096 -print_final_stats=1 \
    -artifact_prefix=build-fuzz/crash-"$t"- "$dir" >build-fuzz/fuzz-"$t".log 2>&1 || rc=$?
  local runs cov
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' build-fuzz/fuzz-"$t".log | grep -o '[0-9]*$' || echo "?")
  cov=$(grep -o 'cov: [0-9]*' build-fuzz/fuzz-"$t".log | tail -1 | grep -o '[0-9]*' || echo "?")
  local crashes
  crashes=$(ls build-fuzz/crash-"$t"-* 2>/dev/null | wc -l)
  printf '%-20s %10s execs  %6s edges  %3s crashes  (%ss)\n' "$t" "$runs" "$cov" "$crashes" "$seconds"
  # A target that exits non-zero (crash, leak, timeout, out of memory, or it never started) or ran
  # no input is a failure, not a line with a "?".
  if ((crashes > 0 || rc != 0)) || [[ $runs == "?" || $runs == 0 ]]; then
    echo "fuzz: $t failed (exit $rc, $runs inputs, $crashes crash files)" >&2
    tail -40 build-fuzz/fuzz-"$t".log >&2
    return 1
  fi
}
export -f run_one
export seconds
rm -f build-fuzz/crash-*
if ! printf '%s\n' "${targets[@]}" | xargs -P "$jobs" -I{} bash -c 'run_one {}'; then
  echo "fuzz: a target failed (see above; crash inputs in build-fuzz/crash-*)" >&2
  exit 1
fi
