#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# contrib/systemd/azrelay-listen@.service: systemd-analyze verifies it without a word, its
# hardening scores "OK" (exposure at most 2.0 of 10), and its ExecStart line, run as systemd would
# run it (the credential in %d, AZRELAY_LISTEN_ARGS from the instance's file), brings a listener
# online; a wrong key in the credential ends it with an exit code the unit does not restart.
set -euo pipefail
CASE=systemd
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
need_cmd systemd-analyze systemd
: "${AZR_SOURCE_DIR:?AZR_SOURCE_DIR must name the source tree}"

unit=$T/azrelay-listen@test.service
sed "s|@AZR_BINDIR@|$(dirname "$AZRELAY_BIN")|" "$AZR_SOURCE_DIR/contrib/systemd/azrelay-listen@.service.in" >"$unit"
# --man=no: the man page is not installed here (the package test checks it with the man page).
systemd-analyze verify --man=no "$unit" >"$T/verify.out" 2>&1 || fail "systemd-analyze verify: $(cat "$T/verify.out")"
[[ ! -s $T/verify.out ]] || fail "systemd-analyze verify has remarks: $(cat "$T/verify.out")"
log "ok: systemd-analyze verify"
systemd-analyze security --offline=true --threshold=20 "$unit" >"$T/security.out" 2>&1 ||
  fail "exposure above 2.0: $(grep -E '✗|Overall' "$T/security.out" | head -n 20)"
# What a network service cannot avoid is all that may be open.
allowed=" RootDirectory=/RootImage= RestrictAddressFamilies=~AF_UNIX RestrictAddressFamilies=~AF_(INET|INET6) PrivateNetwork= DeviceAllow= IPAddressDeny= "
open=$(sed -n 's/^✗ \([^ ]*\) .*/\1/p' "$T/security.out")
for item in $open; do
  [[ $allowed == *" $item "* ]] || fail "systemd-analyze security: $item is open: $(grep -F -- "✗ $item" "$T/security.out")"
done
log "ok: $(grep -o 'Overall exposure level.*' "$T/security.out"); open only: $(tr '\n' ' ' <<<"$open")"

# ExecStart as systemd runs it: %d is the credentials directory, $AZRELAY_LISTEN_ARGS split on blanks.
exec_start=$(sed -n 's/^ExecStart=//p' "$unit")
prevent=$(sed -n 's/^RestartPreventExitStatus=//p' "$unit")
start_emulator
mkdir -p "$T/creds"
printf '%s\n' "$CS" >"$T/creds/connection-string"
chmod 400 "$T/creds/connection-string"
AZRELAY_LISTEN_ARGS="--echo --http-echo --cacert $CERT"
read -ra argv <<<"${exec_start//%d/$T/creds}"
args=()
for a in "${argv[@]}"; do
  if [[ $a == '$AZRELAY_LISTEN_ARGS' ]]; then
    read -ra more <<<"$AZRELAY_LISTEN_ARGS"
    args+=("${more[@]}")
  else
    args+=("$a")
  fi
done
start_bg service "${args[@]}"
wait_lines "$T/service.err" 'listening$' 1 20 "$LAST_PID" || fail "the unit's command did not come online: ${args[*]}"
out=$(printf 'unit\n' | timeout 20 "$AZRELAY_BIN" connect -c "$CS" --cacert "$CERT" -q) || fail "no echo from the unit's listener"
[[ $out == unit ]] || fail "echo '$out'"
kill -TERM "$LAST_PID"
wait "$LAST_PID" || fail "the unit's command did not exit 0 on SIGTERM"
log "ok: the unit's ExecStart serves with the connection string from the credential"
sed 's/SharedAccessKey=[^;]*/SharedAccessKey=d3Jvbmc=/' <<<"$CS" >"$T/creds/wrong"
mv -f "$T/creds/wrong" "$T/creds/connection-string"
rc=0
timeout 20 "${args[@]}" 2>"$T/wrong.err" || rc=$?
((rc == 3)) || fail "a wrong key in the credential: exit $rc, want 3: $(cat "$T/wrong.err")"
[[ " $prevent " == *" $rc "* ]] || fail "exit $rc is not in RestartPreventExitStatus=$prevent: systemd would retry a wrong key"
log "ok: a wrong key exits $rc, which RestartPreventExitStatus=$prevent keeps systemd from retrying"
log "PASS"
