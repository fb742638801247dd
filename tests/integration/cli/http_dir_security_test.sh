#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `azrelay listen --http-dir` must never serve what lies outside its folder, nor hidden files:
#   dotfiles      .env, .git/config and sub/.hidden get 404 by default and 200 with --http-dotfiles;
#                 a symbolic link (even one pointing inside the folder) gets 404
#   symlink_race  a file swapped for a symbolic link to a secret outside the folder, thousands of
#                 times a second, while 3000 requests fetch it: the secret never comes back
# Usage: http_dir_security_test.sh CASE (env AZRELAY_BIN; AZR_SWAP_SYMLINK for symlink_race).
set -euo pipefail
CASE=${1:?usage: http_dir_security_test.sh CASE}
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
need_cmd curl curl

SITE=$T/site
mkdir -p "$SITE/sub" "$SITE/.git"
echo visible >"$SITE/visible.txt"
echo "SECRET_KEY=dotenv-secret" >"$SITE/.env"
echo "[remote] url=git-secret" >"$SITE/.git/config"
echo hidden-secret >"$SITE/sub/.hidden"
echo "TOP-SECRET-$RANDOM$RANDOM" >"$T/secret.txt"

start_emulator
TOKEN=$(token_for "$CS")

# get PATH: the HTTP status of GET /hc1PATH; the body in $T/body.
get() {
  curl -s --max-time 10 --cacert "$CERT" -H "ServiceBusAuthorization: $TOKEN" -o "$T/body" -w '%{http_code}' \
    --path-as-is "$(emu_url "$1")"
}
expect_status() { # PATH STATUS
  local got
  got=$(get "$1")
  [[ $got == "$2" ]] || fail "GET $1 answered $got, want $2 (body: $(head -c 200 "$T/body"))"
  log "ok: GET $1 -> $got"
}
serve() { # NAME listen-args...
  local name=$1
  shift
  start_bg "$name" "$AZRELAY_BIN" listen -c "$CS" --cacert "$CERT" --http-dir "$SITE" "$@"
  wait_lines "$T/$name.err" '^listening$' 1 20 "$LAST_PID" || fail "listener $name did not come online"
  LISTENER_PID=$LAST_PID
}

case $CASE in
dotfiles)
  ln -s visible.txt "$SITE/inside-link"
  ln -s ../secret.txt "$SITE/outside-link"
  serve default
  expect_status /visible.txt 200
  expect_status /.env 404
  expect_status /.git/config 404
  expect_status /sub/.hidden 404
  expect_status /%2eenv 404
  expect_status /inside-link 404
  expect_status /outside-link 404
  kill -TERM "$LISTENER_PID"
  wait "$LISTENER_PID" || fail "the listener did not exit 0 on SIGTERM"
  serve dotfiles --http-dotfiles
  expect_status /.env 200
  grep -q dotenv-secret "$T/body" || fail "--http-dotfiles did not serve .env"
  expect_status /.git/config 200
  expect_status /outside-link 404
  ;;
symlink_race)
  SWAP=${AZR_SWAP_SYMLINK:?AZR_SWAP_SYMLINK must name the swap_symlink helper}
  echo public >"$SITE/race.txt"
  serve race
  "$SWAP" "$SITE/race.txt" "$T/secret.txt" 30 >"$T/swaps" &
  SWAP_PID=$!
  CHILD_PIDS+=("$SWAP_PID")
  # One curl, 3000 requests on a kept-alive connection; bodies one after the other.
  curl -s --max-time 120 --cacert "$CERT" -H "ServiceBusAuthorization: $TOKEN" \
    -w '\n%{http_code}\n' "$(emu_url '/race.txt?n=[1-3000]')" >"$T/race.out" || true
  kill "$SWAP_PID" 2>/dev/null || true
  wait "$SWAP_PID" 2>/dev/null || true
  served=$(grep -c '^public$' "$T/race.out" || true)
  leaked=$(grep -c 'TOP-SECRET' "$T/race.out" || true)
  statuses=$(grep -cE '^[0-9]{3}$' "$T/race.out" || true)
  log "3000 requests: $statuses answered, $served served the file, $leaked served the secret"
  ((statuses == 3000)) || fail "only $statuses of 3000 requests were answered"
  ((served > 0)) || fail "the file was never served: the race did not run"
  ((leaked == 0)) || fail "the secret outside --http-dir was served $leaked times"
  ;;
*) fail "unknown case $CASE" ;;
esac
log "PASS"
