#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `azrelay listen --metrics`: the listener's counters as OpenMetrics text. An echo and an HTTP
# exchange through the TLS emulator must show up in the counters; the exposition must be well formed
# (every sample a number, "# EOF" last); other paths get 404; a client that never sends its request
# must not hold up a scrape.
set -euo pipefail
CASE=metrics
# shellcheck source=../forward/lib.sh
source "$(dirname "$0")/../forward/lib.sh"
need_cmd curl curl

# value NAME: the sample NAME from the last scrape
value() { awk -v n="$1" '$1 == n {print $2}' "$T/scrape.txt"; }
scrape() { curl -sf --max-time 5 "http://127.0.0.1:$MPORT/metrics" >"$T/scrape.txt" || fail "GET /metrics failed"; }
expect() { # NAME WANT
  local got
  got=$(value "$1")
  [[ $got == "$2" ]] || fail "$1 is '$got', want $2"
}

start_emulator
start_bg lst "$AZRELAY_BIN" listen -c "$CS" --cacert "$CERT" --echo --http-echo --metrics 127.0.0.1:0
wait_lines "$T/lst.err" '^listening$' 1 20 "$LAST_PID" || fail "the listener did not come online"
MPORT=$(sed -n 's/^metrics on port \([0-9]*\).*/\1/p' "$T/lst.err")
[[ -n $MPORT ]] || fail "no metrics port on stderr"

scrape
expect azrelay_listener_online 1
expect azrelay_control_channel_opens_total 1
expect azrelay_connections_accepted_total 0
[[ $(tail -n 1 "$T/scrape.txt") == "# EOF" ]] || fail "the exposition does not end with # EOF"
bad=$(grep -v '^#' "$T/scrape.txt" | grep -cvE '^azrelay_[a-z_]+ [0-9]+$' || true)
((bad == 0)) || fail "$bad malformed sample lines"
grep -q '^# TYPE azrelay_sent_bytes counter$' "$T/scrape.txt" || fail "no TYPE line for azrelay_sent_bytes"
ctype=$(curl -s -o /dev/null -w '%{content_type}' "http://127.0.0.1:$MPORT/metrics")
[[ $ctype == application/openmetrics-text* ]] || fail "content type '$ctype'"
log "ok: online, well-formed exposition ($ctype)"

# A half-open scraper (connects, sends nothing) must not delay another scrape.
exec 3<>"/dev/tcp/127.0.0.1/$MPORT"
t0=$(date +%s%N)
scrape
ms=$((($(date +%s%N) - t0) / 1000000))
((ms < 1500)) || fail "a scrape took $ms ms while another client sat idle"
exec 3>&-
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$MPORT/other")
[[ $code == 404 ]] || fail "GET /other answered $code, want 404"
log "ok: a scrape next to an idle client took $ms ms; /other is 404"

# One echoed connection and one HTTP request.
out=$(printf 'hello\nworld\n' | timeout 20 "$AZRELAY_BIN" connect -c "$CS" --cacert "$CERT" 2>"$T/connect.err") ||
  fail "connect failed: $(tail -n 3 "$T/connect.err")"
[[ $out == *hello*world* ]] || fail "no echo: '$out'"
body=$(timeout 20 "$AZRELAY_BIN" request -c "$CS" --cacert "$CERT" -d ping /metrics-test 2>"$T/request.err") ||
  fail "request failed: $(tail -n 3 "$T/request.err")"
[[ $body == *ping* ]] || fail "HTTP echo: '$body'"
ok=0
for _ in $(seq 50); do
  scrape
  if [[ $(value azrelay_connections_closed_total) == 1 ]]; then ok=1; break; fi
  sleep 0.1
done
((ok)) || fail "the closed connection was not counted: $(grep -v '^#' "$T/scrape.txt" | tr '\n' ' ')"
expect azrelay_connection_requests_total 1
expect azrelay_connections_accepted_total 1
expect azrelay_connections_rejected_total 0
expect azrelay_connections_open 0
expect azrelay_http_requests_total 1
expect azrelay_http_responses_total 1
rx=$(value azrelay_received_bytes_total)
tx=$(value azrelay_sent_bytes_total)
((rx > 0 && rx == tx)) || fail "bytes received $rx, sent $tx: an echo sends back what it gets"
log "ok: after an echo and an HTTP request: accepted 1, closed 1, http 1/1, $rx bytes each way"
log "PASS"
