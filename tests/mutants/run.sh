#!/usr/bin/env bash
# The standing mutation check (issue 17): each tests/mutants/*.mutant breaks one feature that
# docs/FEATURES.md, SECURITY.md or EMULATOR.md claims, in one line; the tests it names must then fail.
# A mutant that survives (its tests still pass) means the feature is not proven, and fails this run.
#
# Works on a scratch copy of this checkout (uncommitted changes included), in its own build
# directory, so the checkout is never modified. Before any mutant, the tests of every selected
# mutant run unmutated and must pass: a test that fails anyway kills nothing.
#
# usage: tests/mutants/run.sh [--scratch DIR] [NAME ...]   (NAME: a mutant file's base name)
# A full run takes tens of minutes on 2 cores, so CI does not run it; run it before resolving an
# issue and paste its table into the closing note. Exit 0 only when every mutant was killed.
#
# Mutant file format (one field per line; lines starting with # are comments):
#   row:     the claim it breaks (a FEATURES.md row or a SECURITY.md/EMULATOR.md section)
#   file:    the source file, from the repository root
#   find:    text that occurs exactly once in that file (the whole line need not be given)
#   replace: what it becomes
#   tests:   the ctest names that must kill it, separated by spaces
# file/find/replace may repeat (applied in order) where a claim has two guards that each hold it
# alone, so only breaking both shows whether a test watches it.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
scratch=${TMPDIR:-/tmp}/azrelay-mutants
names=()
while (($#)); do
  case $1 in
  --scratch) scratch=$2; shift ;;
  -h | --help) sed -n '2,20p' "$0"; exit 0 ;;
  *) names+=("$1") ;;
  esac
  shift
done

fields() { # FILE NAME: every value of "NAME:" in FILE, one per line
  sed -n "s/^$2:[[:space:]]\{0,1\}//p" "$1"
}
field() { fields "$@" | head -n 1; }

mutants=()
if ((${#names[@]})); then
  for n in "${names[@]}"; do mutants+=("tests/mutants/$n.mutant"); done
else
  mutants=(tests/mutants/*.mutant)
fi
for m in "${mutants[@]}"; do
  [[ -f $m ]] || { echo "mutants: no such mutant: $m" >&2; exit 2; }
  for f in row file find replace tests; do
    [[ -n $(field "$m" "$f") ]] || { echo "mutants: $m has no '$f:' line" >&2; exit 2; }
  done
  mapfile -t files < <(fields "$m" file)
  mapfile -t finds < <(fields "$m" find)
  mapfile -t replaces < <(fields "$m" replace)
  ((${#files[@]} == ${#finds[@]} && ${#finds[@]} == ${#replaces[@]})) ||
    { echo "mutants: $m: file, find and replace lines must come in threes" >&2; exit 2; }
  for i in "${!files[@]}"; do
    count=$(grep -cF -- "${finds[i]}" "${files[i]}" || true)
    ((count == 1)) || { echo "mutants: $m: '${finds[i]}' occurs $count times in ${files[i]} (want once): stale mutant" >&2; exit 2; }
  done
done

echo "== scratch copy in $scratch"
rm -rf "$scratch/src"
mkdir -p "$scratch/src"
# The checkout as it is (tracked and untracked files, not ignored ones); build trees stay outside.
# Fresh file times (tar -m), so the build never trusts an object left from an interrupted run's mutant.
git ls-files -z --cached --others --exclude-standard | tar --null --ignore-failed-read -T - -cf - | tar -mxf - -C "$scratch/src"
[[ -e tests/interop/node_modules ]] && ln -sfn "$root/tests/interop/node_modules" "$scratch/src/tests/interop/node_modules"
build=$scratch/build
cmake -S "$scratch/src" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DAZR_BUILD_TESTS=ON -DAZR_BUILD_EXAMPLES=ON \
  -DAZR_BUILD_BENCH=OFF -DAZR_TEST_VALGRIND=OFF >/dev/null
jobs=$(nproc 2>/dev/null || echo 2)
cmake --build "$build" -j"$jobs" >/dev/null

regex_of() { # "a b c" -> ^(a|b|c)$
  local t
  read -r -a t <<<"$1"
  local IFS='|'
  echo "^(${t[*]})\$"
}
all_tests=$(for m in "${mutants[@]}"; do field "$m" tests; done | tr ' ' '\n' | sort -u | tr '\n' ' ')
echo "== baseline: the named tests pass unmutated ($(wc -w <<<"$all_tests") tests)"
registered=$(cd "$build" && ctest -N | sed -n 's/^ *Test *#[0-9]*: //p')
for t in $all_tests; do
  grep -qx -- "$t" <<<"$registered" || { echo "mutants: '$t' is not a registered test" >&2; exit 2; }
done
if ! (cd "$build" && ctest -j"$jobs" --no-tests=error -R "$(regex_of "$all_tests")" >"$scratch/baseline.log" 2>&1); then
  grep -E 'Failed|\*\*\*' "$scratch/baseline.log" >&2 || true
  echo "mutants: the tests fail without any mutant (see $scratch/baseline.log); fix that first" >&2
  exit 1
fi

survivors=0
table="| Mutant | Claim | Killed by |"$'\n'"|---|---|---|"$'\n'
for m in "${mutants[@]}"; do
  name=$(basename "$m" .mutant)
  mapfile -t files < <(fields "$m" file)
  mapfile -t finds < <(fields "$m" find)
  mapfile -t replaces < <(fields "$m" replace)
  tests=$(field "$m" tests)
  rm -rf "$scratch/original" && mkdir -p "$scratch/original"
  for i in "${!files[@]}"; do
    target=$scratch/src/${files[i]}
    cp "$target" "$scratch/original/$i"
    FIND=${finds[i]} REPLACE=${replaces[i]} python3 -c '
import os, sys
p = sys.argv[1]
s = open(p, encoding="utf-8").read()
open(p, "w", encoding="utf-8").write(s.replace(os.environ["FIND"], os.environ["REPLACE"], 1))' "$target"
  done
  verdict=""
  if ! cmake --build "$build" -j"$jobs" >"$scratch/$name.build.log" 2>&1; then
    verdict="DOES NOT BUILD (fix the mutant)"
    survivors=$((survivors + 1))
  else
    (cd "$build" && ctest -j"$jobs" --no-tests=error -R "$(regex_of "$tests")" >"$scratch/$name.log" 2>&1) || true
    killed=$(sed -n 's/^[[:space:]]*[0-9]* - \([A-Za-z0-9_]*\) (.*/\1/p' "$scratch/$name.log" | tr '\n' ' ')
    if [[ -n $killed ]]; then
      verdict="${killed% }"
    else
      verdict="SURVIVED"
      survivors=$((survivors + 1))
    fi
  fi
  # Restore in reverse, so that two edits of one file end with its first saved copy.
  for ((i = ${#files[@]} - 1; i >= 0; i--)); do
    cp "$scratch/original/$i" "$scratch/src/${files[i]}"
    touch "$scratch/src/${files[i]}"
  done
  printf '%-40s %s\n' "$name" "$verdict"
  table+="| $name | $(field "$m" row) | $verdict |"$'\n'
done
# Leave the scratch build matching the checkout again.
cmake --build "$build" -j"$jobs" >/dev/null 2>&1 || true

echo
printf '%s' "$table" | tee "$scratch/table.md"
echo "(logs in $scratch)"
if ((survivors)); then
  echo "mutants: $survivors of ${#mutants[@]} survived or did not build" >&2
  exit 1
fi
echo "mutants: all ${#mutants[@]} killed"
