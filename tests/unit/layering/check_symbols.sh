#!/usr/bin/env bash
# Symbol hygiene of the built libraries (docs/ARCHITECTURE.md, "Symbols and ABI"):
#   - every global symbol the static library defines starts with azr_ (public) or azr__ (internal),
#     so linking libazrelay.a into a program cannot collide with the program's own names;
#   - the shared library exports public azr_ names only (no azr__ internals), and each of them is
#     declared in an installed header.
# usage: check_symbols.sh STATIC_LIB SHARED_LIB INCLUDE_DIR
set -euo pipefail
static=${1:?static library} shared=${2:?shared library} inc=${3:?include dir}
fail=0

# Symbols a sanitizer's instrumentation adds (ASan's ODR indicators) are not ours.
bad=$(nm -g --defined-only "$static" | awk 'NF == 3 && $3 !~ /^azr_/ && $3 !~ /^__(odr_asan|asan|ubsan|sancov)/ { print $3 }' |
  sort -u)
if [[ -n $bad ]]; then
  echo "FAIL: $static defines global symbols outside the azr_ prefix:" $bad
  fail=1
fi

exported=$(nm -D --defined-only "$shared" | awk 'NF == 3 { print $3 }' | sort -u)
[[ -n $exported ]] || { echo "FAIL: $shared exports nothing (nm failed?)"; exit 1; }
internal=$(grep '^azr__' <<<"$exported" || true)
if [[ -n $internal ]]; then
  echo "FAIL: $shared exports internal symbols:" $internal
  fail=1
fi
foreign=$(grep -v '^azr_' <<<"$exported" | grep -vE '^__(odr_asan|asan|ubsan|sancov)' || true)
if [[ -n $foreign ]]; then
  echo "FAIL: $shared exports symbols outside the azr_ prefix:" $foreign
  fail=1
fi
undeclared=()
for s in $(grep '^azr_[a-z]' <<<"$exported"); do
  grep -rqw -- "$s" "$inc" || undeclared+=("$s")
done
if ((${#undeclared[@]})); then
  echo "FAIL: exported but declared in no header under $inc: ${undeclared[*]}"
  fail=1
fi
((fail == 0)) && echo "ok: $(wc -l <<<"$exported") exported symbols, all public and declared; static library clean"
exit $fail
