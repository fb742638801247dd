#!/usr/bin/env bash
# One command for the whole test suite: installs dependencies, builds twice (warnings as errors, and
# with AddressSanitizer + UndefinedBehaviorSanitizer), runs every test in both builds (the release
# build also runs the C API tests under valgrind), then gives each fuzz target a short libFuzzer run
# (AZR_FUZZ_SECONDS, default 10; 0 skips it; fuzz/run.sh is the long campaign).
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/install-deps.sh
(cd tests/interop && npm ci --no-audit --no-fund --loglevel=error)

jobs=$(nproc 2>/dev/null || echo 2)
build() { # dir, extra cmake args...
  local dir=$1
  shift
  cmake -S . -B "$dir" -DAZR_WERROR=ON "$@" >/dev/null
  cmake --build "$dir" -j"$jobs" >/dev/null
}

echo "== build (RelWithDebInfo, -Werror)"
build build/release -DCMAKE_BUILD_TYPE=RelWithDebInfo
echo "== build (ASan + UBSan)"
build build/asan -DCMAKE_BUILD_TYPE=Debug -DAZR_SANITIZE=ON

echo "== tests (release build)"
(cd build/release && ctest --output-on-failure -j"$jobs")
echo "== tests (ASan + UBSan build)"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
(cd build/asan && ctest --output-on-failure -j"$jobs")

fuzz_seconds=${AZR_FUZZ_SECONDS:-10}
if ((fuzz_seconds > 0)); then
  echo "== fuzz (libFuzzer, ${fuzz_seconds}s per target)"
  ./fuzz/run.sh "$fuzz_seconds"
fi
