#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The README's C sample is examples/minimal_listener.c, word for word, and it works: built by the
# project (with -Werror in CI), it comes online against the emulator, echoes a sender's messages,
# and a wrong key ends it at once instead of a silent retry loop.
set -euo pipefail
CASE=readme
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
: "${AZR_SOURCE_DIR:?}" "${AZR_EXAMPLE_MINIMAL_LISTENER:?AZR_EXAMPLE_MINIMAL_LISTENER must name the built example}"

awk '/^```c$/ {on = 1; next} /^```$/ {on = 0} on' "$AZR_SOURCE_DIR/README.md" >"$T/readme.c"
diff -u "$AZR_SOURCE_DIR/examples/minimal_listener.c" "$T/readme.c" >"$T/readme.diff" ||
  fail "README.md's C block differs from examples/minimal_listener.c: $(head -n 30 "$T/readme.diff")"
log "ok: the README's sample is examples/minimal_listener.c"

start_emulator
AZRELAY_CONNECTION_STRING=$CS AZRELAY_CACERT=$CERT start_bg sample "$AZR_EXAMPLE_MINIMAL_LISTENER"
wait_lines "$T/sample.err" '^listening$' 1 20 "$LAST_PID" || fail "the sample did not come online"
out=$(printf 'from the README\n' | timeout 20 "$AZRELAY_BIN" connect -c "$CS" --cacert "$CERT" -q) || fail "no echo"
[[ $out == "from the README" ]] || fail "echo '$out'"
kill -TERM "$LAST_PID"
log "ok: the sample echoes"
bad=$(sed 's/SharedAccessKey=[^;]*/SharedAccessKey=d3Jvbmc=/' <<<"$CS")
rc=0
AZRELAY_CONNECTION_STRING=$bad AZRELAY_CACERT=$CERT timeout 20 "$AZR_EXAMPLE_MINIMAL_LISTENER" 2>"$T/wrong.err" || rc=$?
((rc == 1)) && grep -q '^stopped: .*401' "$T/wrong.err" || fail "a wrong key: exit $rc, $(cat "$T/wrong.err")"
log "ok: a wrong key stops it: $(tail -n 1 "$T/wrong.err")"
log "PASS"
