#!/usr/bin/env bash
# The ABI of libazrelay.so against the frozen 1.x baseline abi/libazrelay.abi (docs/ARCHITECTURE.md,
# "Symbols and ABI"): any difference fails, a removed function or a changed signature or struct
# layout as much as an addition. An addition is allowed in a 1.x minor release, but only on
# purpose: refresh the baseline in the same commit (cmake --build BUILD --target abi-baseline) and
# say so in CHANGELOG.md; a change of anything else needs 2.0.
# usage: check_abi.sh BASELINE SHARED_LIB
set -uo pipefail
baseline=${1:?baseline} lib=${2:?shared library}
[[ -s $baseline ]] || { echo "FAIL: no ABI baseline at $baseline"; exit 1; }
out=$(abidiff "$baseline" "$lib" 2>&1)
rc=$?
# abidiff's exit status is a bit field: 1 error, 2 usage error, 4 ABI change, 8 incompatible change.
if ((rc & 3)); then
  echo "FAIL: abidiff could not compare (status $rc):"
  echo "$out"
  exit 1
fi
if ((rc & 12)); then
  if ((rc & 8)); then echo "FAIL: incompatible ABI change against the 1.x baseline:"; else
    echo "FAIL: the ABI differs from the 1.x baseline (an addition? then refresh abi/libazrelay.abi on purpose):"; fi
  echo "$out"
  exit 1
fi
echo "ok: the ABI equals the 1.x baseline ($(grep -c '<elf-symbol name=.azr_' "$baseline") exported functions)"
