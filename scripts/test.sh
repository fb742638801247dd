#!/usr/bin/env bash
# One command for the whole test suite: installs dependencies, builds twice (warnings as errors, and
# with AddressSanitizer + UndefinedBehaviorSanitizer) with tests and examples, runs every test in
# both builds (the release build also runs the C API tests under valgrind), installs the release
# build into a prefix and as a Debian package and builds and runs programs against them
# (tests/install/install_test.sh), then gives each fuzz target a short libFuzzer run
# (AZR_FUZZ_SECONDS, default 10; 0 skips it; fuzz/run.sh is the long campaign).
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/install-deps.sh --all
(cd tests/interop && npm ci --no-audit --no-fund --loglevel=error)

jobs=$(nproc 2>/dev/null || echo 2)
build() { # dir, extra cmake args...
  local dir=$1
  shift
  # Every option the tests need is given here: a build directory configured before (by demo.sh,
  # with AZR_BUILD_TESTS=OFF) must not silently run no tests.
  cmake -S . -B "$dir" -DAZR_WERROR=ON -DAZR_BUILD_TESTS=ON -DAZR_BUILD_EXAMPLES=ON -DAZR_BUILD_BENCH=ON "$@" >/dev/null
  cmake --build "$dir" -j"$jobs" >/dev/null
}
# ctest fails when no test ran (a build without tests is a failure, not a pass).
# A skipped test is not a pass: in CI (CI=true), where install-deps.sh provides every tool, any
# skipped or not-run test fails the run; elsewhere it is listed loudly at the end.
# CI keeps only the tail of a log: after a failure, the end of each failed test's own output comes
# last, and then one line per failed test with its FAIL line (or its last line).
print_failures() {
  local dir=$1 name summary=""
  local failed="$dir/Testing/Temporary/LastTestsFailed.log" all="$dir/Testing/Temporary/LastTest.log"
  [[ -f $failed && -f $all ]] || return 0
  while IFS=: read -r _ name; do
    local out
    out=$(awk -v n="$name" '
      /^[0-9]+\/[0-9]+ Test: / { t = $0; sub(/^[0-9]+\/[0-9]+ Test: /, "", t); on = (t == n); next }
      on && index($0, "\"" n "\" end time:") == 1 { on = 0 }
      on { print }' "$all")
    echo "!! ---- $name: the end of its output ----" >&2
    tail -n 40 <<<"$out" >&2
    local why
    why=$(grep -E 'FAIL|ERROR|Assertion|Sanitizer|Timeout' <<<"$out" | tail -n 1 || true)
    [[ -n $why ]] || why=$(grep -v '^ *$' <<<"$out" | tail -n 1 || true)
    summary+="!! $name: ${why:0:300}"$'\n'
  done <"$failed"
  printf '%s' "$summary" >&2
}

run_ctest() {
  local log="$1/ctest-output.log" rc=0
  (cd "$1" && ctest --output-on-failure --no-tests=error -j"$jobs") 2>&1 | tee "$log" || rc=$?
  ((rc == 0)) || { print_failures "$1"; return "$rc"; }
  local skipped
  skipped=$(grep -E '\*\*\*(Skipped|Not Run)|^ *[0-9]+ - .*\((Skipped|Not Run)\)' "$log" || true)
  if [[ -n $skipped ]]; then
    echo "!! SKIPPED TESTS in $1 (a skip is not a pass):" >&2
    echo "$skipped" >&2
    [[ ${CI:-} == true ]] && { echo "!! CI=true: skipped tests fail the run" >&2; return 1; }
  fi
  return 0
}

echo "== build (RelWithDebInfo, -Werror)"
build build/release -DCMAKE_BUILD_TYPE=RelWithDebInfo -DAZR_SANITIZE=OFF
echo "== build (ASan + UBSan)"
build build/asan -DCMAKE_BUILD_TYPE=Debug -DAZR_SANITIZE=ON

echo "== tests (release build)"
run_ctest build/release
echo "== install and package (release build)"
./tests/install/install_test.sh build/release
echo "== tests (ASan + UBSan build)"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
run_ctest build/asan

fuzz_seconds=${AZR_FUZZ_SECONDS:-10}
if ((fuzz_seconds > 0)); then
  echo "== fuzz (libFuzzer, ${fuzz_seconds}s per target)"
  ./fuzz/run.sh "$fuzz_seconds"
fi
