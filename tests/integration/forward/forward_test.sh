#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Forwarding end to end: `azrelay connect --local-port` -> emulator -> `azrelay listen --forward`
# -> a TCP service, in raw mode and in azbridge mode. One case per run:
#   redis          redis-cli SET/GET/INCR (and a 1 MiB value) and a short redis-benchmark through
#                  the bridge; connection events fire; HTTP requests are not forwarded
#   redis_azbridge the same with azbridge's preamble (connect --azbridge-port NAME, listen --forward
#                  NAME=HOST:PORT), several logical ports, unknown and unreachable ports refused with
#                  a clear error, a single unnamed port answering numeric names
#   azbridge_bytes the listener's side byte by byte (azbridge_probe): a preamble split over
#                  messages with payload in the same message, datagram mode, bad version, unknown
#                  and malformed names
#   bulk           50 parallel connections x 20 MB of pseudo-random data into a sink; SHA-256 equal
#   reader_stops   a target that never reads while a writer floods: the listener's RSS stays bounded
#                  and the writer is held back
#   client_stops   the other way: the target floods a local client that never reads; the bridge's
#                  and the listener's RSS stay bounded and the target is held back
#   kill           SIGKILL of the target: the local client sees EOF within 2 s
# Exit 77 (skipped) when a tool the case needs is missing.
set -euo pipefail
CASE=${1:?usage: forward_test.sh CASE}
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

need_cmd ss iproute2
NODE=${AZR_NODE:-node}
TOOLS="$HERE/tcp_tools.js"

# RSS bounds in sanitized builds: ASan keeps freed blocks in a quarantine (256 MB by default) that
# counts as RSS and grows with the bytes that pass, so keep it small (ignored by other builds).
small_quarantine() { export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=8"; }

# ---- redis, raw ----

# benchmark PORT WHAT: a short redis-benchmark; both tests must report requests/s.
benchmark() {
  local port=$1 what=$2 out="$T/bench-$2.csv"
  timeout 120 redis-benchmark -h 127.0.0.1 -p "$port" -n 20000 -c 20 -P 16 -t set,get --csv >"$out" 2>"$T/bench-$2.err" ||
    fail "$what: redis-benchmark failed"
  grep -qE '^"SET","[0-9.]+"' "$out" && grep -qE '^"GET","[0-9.]+"' "$out" || fail "$what: no SET/GET figures in $(cat "$out")"
  log "ok: $what: redis-benchmark $(grep -E '^"(SET|GET)"' "$out" | cut -d, -f1,2 | tr '\n' ' ')"
}

# redis_checks PORT WHAT: commands through the bridge on PORT.
redis_checks() {
  local port=$1 what=$2
  expect_reply "$what SET" OK "$port" SET greeting hello
  expect_reply "$what GET" hello "$port" GET greeting
  rcli "$port" DEL counter >/dev/null
  expect_reply "$what INCR 1" 1 "$port" INCR counter
  expect_reply "$what INCR 2" 2 "$port" INCR counter
  expect_reply "$what INCRBY" 42 "$port" INCRBY counter 40
  head -c 1048576 /dev/urandom | base64 -w0 >"$T/big.txt"
  rcli "$port" -x SET big <"$T/big.txt" >/dev/null || fail "$what: SET of a 1.4 MB value failed"
  rcli "$port" GET big >"$T/big.back" || fail "$what: GET of the big value failed"
  cmp -s <(cat "$T/big.txt"; echo) "$T/big.back" || fail "$what: the big value came back different"
  log "ok: $what: 1.4 MB value round trip"
  benchmark "$port" "$what"
}

case_redis() {
  need_cmd redis-server redis-server
  need_cmd redis-cli redis-tools
  need_cmd redis-benchmark redis-tools
  start_emulator
  local rp lp
  rp=$(free_port)
  start_redis redis "$rp"
  start_forwarder fwd --forward "127.0.0.1:$rp"
  lp=$(free_port)
  start_bridge bridge "$lp"
  redis_checks "$lp" raw
  # Every forwarded connection fired ConnectionConnected and, once closed, ConnectionDisconnected.
  local opened
  opened=$(count_lines "$T/fwd.err" '^connection [0-9]+ open$')
  ((opened >= 27)) || fail "expected at least 27 forwarded connections (7 redis-cli, 20 benchmark), saw $opened"
  wait_lines "$T/fwd.err" '^connection [0-9]+ closed: ' "$opened" 10 || fail "not every connection reported its close"
  log "ok: $opened connections opened and closed on the listener"
  # HTTP requests are answered by the listener (501 here), never forwarded to the TCP service.
  local before after rc=0
  before=$(rcli "$rp" INFO stats | tr -d '\r' | sed -n 's/^total_connections_received://p')
  timeout 20 "$AZRELAY_BIN" request -c "$CS" --cacert "$CERT" /not-forwarded >"$T/http.out" 2>"$T/http.err" || rc=$?
  after=$(rcli "$rp" INFO stats | tr -d '\r' | sed -n 's/^total_connections_received://p')
  ((rc != 0)) && grep -q 501 "$T/http.err" || fail "an HTTP request should get 501, got rc=$rc: $(cat "$T/http.err")"
  ((after == before + 1)) || fail "the HTTP request reached redis ($before -> $after connections)"
  log "ok: HTTP request answered 501 by the listener, not forwarded"
}

# ---- redis, azbridge ----

case_redis_azbridge() {
  need_cmd redis-server redis-server
  need_cmd redis-cli redis-tools
  need_cmd redis-benchmark redis-tools
  start_emulator
  local rp rp2 dead lp
  rp=$(free_port)
  start_redis redis "$rp"
  rp2=$(free_port)
  start_redis redis2 "$rp2"
  dead=$(free_port) # nobody listens there
  start_forwarder fwd --forward "redis=127.0.0.1:$rp" --forward "cache/2=127.0.0.1:$rp2" --forward "dead=127.0.0.1:$dead"
  lp=$(free_port)
  start_bridge bridge "$lp" --azbridge-port redis
  redis_checks "$lp" azbridge
  grep -q "azbridge port 'redis' -> 127.0.0.1:$rp" "$T/fwd.err" || fail "the listener did not log the port lookup"
  # A second logical port on the same hybrid connection reaches the other server.
  local lp2
  lp2=$(free_port)
  start_bridge bridge2 "$lp2" --azbridge-port cache/2
  expect_reply "second port SET" OK "$lp2" SET which two
  expect_reply "second port, direct" two "$rp2" GET which
  expect_reply "first port unaffected" "" "$rp" GET which
  # An unknown name: the listener closes without a reply; the bridge says why.
  local lp3
  lp3=$(free_port)
  start_bridge wrong "$lp3" --azbridge-port nope
  local got
  got=$(rcli "$lp3" PING 2>&1) && fail "PING through an unknown port answered: $got"
  wait_lines "$T/wrong.err" "azbridge port 'nope' was not accepted.*1008 unknown port" 1 10 ||
    fail "the bridge did not report the refusal clearly"
  log "ok: unknown port refused: $(grep -m1 'was not accepted' "$T/wrong.err")"
  wait_lines "$T/fwd.err" "azbridge port 'nope' is not configured" 1 5 || fail "the listener did not log the unknown port"
  # A known name whose target is down: no accept, the bridge sees the listener's 1011.
  local lp4
  lp4=$(free_port)
  start_bridge down "$lp4" --azbridge-port dead
  got=$(rcli "$lp4" PING 2>&1) && fail "PING through a dead target answered: $got"
  wait_lines "$T/down.err" "azbridge port 'dead' was not accepted.*1011" 1 10 || fail "the bridge did not report the dead target"
  log "ok: unreachable target: $(grep -m1 'was not accepted' "$T/down.err")"
  # A single unnamed port (--azbridge --forward HOST:PORT, on hc2) answers numeric names only.
  start_forwarder single -c "$CS2" --azbridge --forward "127.0.0.1:$rp"
  local lp5 lp6
  lp5=$(free_port)
  start_bridge numeric "$lp5" -c "$CS2" --azbridge-port 13389
  expect_reply "numeric name on a single port" hello "$lp5" GET greeting
  lp6=$(free_port)
  start_bridge named "$lp6" -c "$CS2" --azbridge-port redis
  got=$(rcli "$lp6" PING 2>&1) && fail "PING by name on a single unnamed port answered: $got"
  wait_lines "$T/named.err" "azbridge port 'redis' was not accepted" 1 10 || fail "a name on a single unnamed port was not refused"
  log "ok: single unnamed port: numeric names accepted, others refused"
}

# ---- the listener's side of the preamble, byte by byte ----

# probe WHAT WAIT_BYTES EXPECT_RECV EXPECT_CLOSE_ERE HEX...: one azbridge_probe run.
probe() {
  local what=$1 wait=$2 want=$3 close_re=$4 out rc=0
  shift 4
  out=$(timeout 30 "$AZR_FWD_PROBE" "$CS" "$CERT" "$wait" "$@" 2>&1) || rc=$?
  grep -qx "recv $want" <<<"$out" || fail "$what: expected 'recv $want', got: $out"
  grep -qE "^close $close_re" <<<"$out" || fail "$what: expected close '$close_re', got: $out"
  log "ok: $what: $(tr '\n' ' ' <<<"$out")"
}

case_azbridge_bytes() {
  need_cmd redis-server redis-server
  [[ -x ${AZR_FWD_PROBE:-} ]] || skip "AZR_FWD_PROBE (azbridge_probe) not built"
  start_emulator
  local rp
  rp=$(free_port)
  start_redis redis "$rp"
  start_forwarder fwd --forward "redis=127.0.0.1:$rp" --forward "other=127.0.0.1:$rp"
  local ping=2a310d0a24340d0a50494e470d0a pong=2b504f4e470d0a # *1 $4 PING / +PONG
  # 01 00 00 05 "redis" split over four messages, the last carrying the first payload bytes too.
  probe "split preamble + payload" 10 "010000$pong" '1000' 01 000005 7265 646973"$ping"
  probe "whole preamble, payload later" 10 "010000$pong" '1000' 0100000572656469 73 "$ping"
  probe "datagram mode" 0 0000ff '1008' 010001057265646973
  probe "version 2.0" 0 000000 '1002' 020000057265646973
  probe "mode byte 7" 0 000000 '1002' 010007057265646973
  probe "unknown name" 0 "" '1008 unknown port' 010000046e6f7065
  probe "name with '!'" 0 "" '1008' 01000003722165
  probe "empty name" 0 "" '1008' 01000000
  grep -q "connection .* open" "$T/fwd.err" || fail "no ConnectionConnected"
}

# ---- bulk ----

case_bulk() {
  need_cmd "$NODE" nodejs
  local conns=50 bytes=${AZR_FWD_BULK_BYTES:-20000000} sp lp
  start_emulator
  sp=$(free_port)
  start_bg sink "$NODE" "$TOOLS" sink "$sp"
  wait_port "$sp" "$LAST_PID" 15 || fail "the sink did not start"
  start_forwarder fwd --forward "127.0.0.1:$sp" --log-level 2
  lp=$(free_port)
  start_bridge bridge "$lp" -v
  log "sending $conns x $bytes bytes"
  local t0=$SECONDS rc=0
  timeout 240 "$NODE" "$TOOLS" source "$lp" "$conns" "$bytes" bulk-seed >"$T/source.out" 2>"$T/source.err" || rc=$?
  ((rc == 0)) || fail "the source failed (rc=$rc): $(tail -n 3 "$T/source.err")"
  if ! wait_lines "$T/sink.out" '"sha"' "$conns" 30; then
    # What is still open towards the sink, with its queues, and what the listener said about it.
    log "sockets of the sink's port: $(ss -Htni "( sport = :$sp or dport = :$sp )" 2>&1 | head -n 20)"
    log "listener: $(grep -c 'closed:' "$T/fwd.err") connections closed; unusual lines: $(grep -vE 'requested from|open$|closed: 1000 local client closed$|ended its side|the target closed' "$T/fwd.err" | tail -n 30)"
    log "bridge, unusual lines: $(grep -vE 'connected|accepted|open$|closed: 1000' "$T/bridge.err" | tail -n 30)"
    log "sink: $(wc -l <"$T/sink.out") lines; without a hash: $(grep -v '"sha"' "$T/sink.out" | head -n 5)"
    log "sink connections: $(grep -c accepted "$T/sink.err" 2>/dev/null) accepted; sink stderr: $(tail -n 5 "$T/sink.err")"
    sleep 2
    log "two seconds later the sink has $(grep -c '"sha"' "$T/sink.out") hashes"
    fail "the sink did not see $conns complete connections"
  fi
  log "transfer took $((SECONDS - t0)) s: $(cat "$T/source.err")"
  sed -n 's/.*"bytes":\([0-9]*\),"sha":"\([0-9a-f]*\)".*/\1 \2/p' "$T/source.out" | sort >"$T/sent.txt"
  sed -n 's/.*"bytes":\([0-9]*\),"sha":"\([0-9a-f]*\)".*/\1 \2/p' "$T/sink.out" | sort >"$T/received.txt"
  (($(wc -l <"$T/sent.txt") == conns)) || fail "the source reported $(wc -l <"$T/sent.txt") hashes"
  grep -qv "^$bytes " "$T/sent.txt" && fail "the source sent short streams"
  cmp -s "$T/sent.txt" "$T/received.txt" || fail "SHA-256 differ: $(diff "$T/sent.txt" "$T/received.txt" | head -n 6)"
  log "ok: $conns streams, $((conns * bytes)) bytes, every SHA-256 equal at both ends"
}

# ---- reader stops ----

case_reader_stops() {
  need_cmd "$NODE" nodejs
  small_quarantine
  local bp lp start rss max=0 bound limit_kib=$((64 * 1024))
  start_emulator
  bp=$(free_port)
  start_bg blackhole "$NODE" "$TOOLS" blackhole "$bp"
  local hole=$LAST_PID
  wait_port "$bp" "$hole" 15 || fail "the blackhole did not start"
  start_forwarder fwd --forward "127.0.0.1:$bp"
  local lst=$LISTENER_PID
  lp=$(free_port)
  start_bridge bridge "$lp"
  start=$(rss_kib "$lst")
  bound=$((start + limit_kib))
  start_bg flood "$NODE" "$TOOLS" flood "$lp" 10
  local flood_pid=$LAST_PID
  wait_lines "$T/blackhole.out" '^accepted$' 1 10 || fail "the target never got the forwarded connection"
  while kill -0 "$flood_pid" 2>/dev/null; do
    rss=$(rss_kib "$lst") || break
    ((rss > max)) && max=$rss
    ((rss <= bound)) || fail "listener VmRSS $rss KiB exceeds start $start KiB + 64 MiB"
    sleep 0.25
  done
  wait "$flood_pid" 2>/dev/null || true
  local at5 at10
  at5=$(sed -n 's/^t_ms=5[0-9][0-9][0-9] flushed=\([0-9]*\)$/\1/p' "$T/flood.out" | head -n 1)
  at10=$(tail -n 1 "$T/flood.out" | sed -n 's/.*flushed=\([0-9]*\)$/\1/p')
  [[ -n $at5 && -n $at10 ]] || fail "cannot read the writer's progress: $(tr '\n' ' ' <"$T/flood.out")"
  log "writer: $((at5 / 1048576)) MiB accepted after 5 s, $((at10 / 1048576)) MiB after 10 s"
  ((at10 - at5 < 8 * 1048576)) || fail "the writer kept going: backpressure did not reach it"
  ((at10 < 256 * 1048576)) || fail "the writer got $((at10 / 1048576)) MiB into a target that reads nothing"
  kill -0 "$lst" 2>/dev/null || fail "the listener died"
  log "ok: listener VmRSS start $start KiB, peak $max KiB (bound $bound); emulator $(rss_kib "$EMU_PID") KiB, bridge $(rss_kib "$BRIDGE_PID") KiB"
  # The listener still holds the bytes the target never read, flushing them for up to 5 s; end
  # that before the listener exits (a library exit during that linger leaks, see the report).
  kill -KILL "$hole"
  sleep 0.5
}

# ---- local client stops reading ----

case_client_stops() {
  need_cmd "$NODE" nodejs
  small_quarantine
  local fp lp lst_start brg_start rss_l rss_b max_l=0 max_b=0 limit_kib=$((64 * 1024))
  start_emulator
  fp=$(free_port)
  start_bg target "$NODE" "$TOOLS" floodserve "$fp"
  wait_port "$fp" "$LAST_PID" 15 || fail "the flooding target did not start"
  start_forwarder fwd --forward "127.0.0.1:$fp"
  local lst=$LISTENER_PID
  lp=$(free_port)
  start_bridge bridge "$lp"
  local brg=$BRIDGE_PID
  lst_start=$(rss_kib "$lst")
  brg_start=$(rss_kib "$brg")
  start_bg idle "$NODE" "$TOOLS" idle "$lp" 10
  local idle_pid=$LAST_PID
  wait_lines "$T/target.out" '^accepted$' 1 10 || fail "the target never got the forwarded connection"
  while kill -0 "$idle_pid" 2>/dev/null; do
    rss_l=$(rss_kib "$lst") && rss_b=$(rss_kib "$brg") || break
    ((rss_l > max_l)) && max_l=$rss_l
    ((rss_b > max_b)) && max_b=$rss_b
    ((rss_l <= lst_start + limit_kib)) || fail "listener VmRSS $rss_l KiB exceeds start $lst_start KiB + 64 MiB"
    ((rss_b <= brg_start + limit_kib)) || fail "bridge VmRSS $rss_b KiB exceeds start $brg_start KiB + 64 MiB"
    sleep 0.25
  done
  local at5 at9
  at5=$(sed -n 's/^t_ms=5[0-9][0-9][0-9] flushed=\([0-9]*\)$/\1/p' "$T/target.out" | head -n 1)
  at9=$(sed -n 's/^t_ms=9[0-9][0-9][0-9] flushed=\([0-9]*\)$/\1/p' "$T/target.out" | tail -n 1)
  [[ -n $at5 && -n $at9 ]] || fail "cannot read the target's progress: $(tr '\n' ' ' <"$T/target.out")"
  log "target: $((at5 / 1048576)) MiB accepted after 5 s, $((at9 / 1048576)) MiB after 9 s"
  ((at9 - at5 < 8 * 1048576)) || fail "the target kept going: backpressure did not reach it"
  log "ok: VmRSS listener start $lst_start KiB peak $max_l KiB, bridge start $brg_start KiB peak $max_b KiB"
}

# ---- target killed ----

case_kill() {
  need_cmd "$NODE" nodejs
  local ep lp
  start_emulator
  ep=$(free_port)
  start_bg echo "$NODE" "$TOOLS" echo "$ep"
  local echo_pid=$LAST_PID
  wait_port "$ep" "$echo_pid" 15 || fail "the echo target did not start"
  start_forwarder fwd --forward "127.0.0.1:$ep"
  lp=$(free_port)
  start_bridge bridge "$lp"
  local out rc=0 ms
  out=$(timeout 30 "$NODE" "$TOOLS" killwait "$lp" "$echo_pid" 2>&1) || rc=$?
  ((rc == 0)) || fail "killwait: $out"
  ms=$(sed -n 's/^eof_ms=\([0-9]*\) .*/\1/p' <<<"$out")
  [[ -n $ms ]] || fail "killwait: $out"
  ((ms < 2000)) || fail "the local client saw EOF only after $ms ms"
  # The listener closes with 1000 "forwarded connection closed" (FIN from the dead target) or 1011
  # (a reset); its ConnectionDisconnected carries the code of the sender's answering Close.
  wait_lines "$T/fwd.err" '^\[forward\] connection [0-9]+: (the target closed|forwarding to .*)$' 1 5 ||
    fail "the listener did not notice the target's end"
  wait_lines "$T/fwd.err" '^connection [0-9]+ closed: 10(00|11)' 1 5 || fail "the relayed connection did not close with 1000/1011"
  log "ok: target killed, local client saw EOF after $ms ms ($(grep -m1 -oE 'via .*' <<<"$out")); listener: $(grep -m1 -E '^\[forward\] connection [0-9]+: ' "$T/fwd.err")"
}

# A local client that ends its side (shutdown(SHUT_WR)) still gets the answer the target sends after
# reading to the end: raw and azbridge mode, small and large requests.
case_half_close() {
  need_cmd "$NODE" nodejs
  local ep lp lp2 out
  start_emulator
  ep=$(free_port)
  # 11 bytes are answered 7 s after the half-close: longer than the library's 5 s CloseTimeout, which
  # azrelay connect raises to 120 s because its Close is a half-close.
  start_bg lateanswer "$NODE" "$TOOLS" lateanswer "$ep" 11 7000
  wait_port "$ep" "$LAST_PID" 15 || fail "the target did not start"
  start_forwarder fwd --forward "127.0.0.1:$ep"
  lp=$(free_port)
  start_bridge bridge "$lp"
  for n in 10 3000000 11; do
    out=$(timeout 30 "$NODE" "$TOOLS" halfclose "$lp" "$n" 2>&1) || fail "half-close, $n bytes: $out"
    log "ok: raw, $n bytes: $out"
  done
  wait_lines "$T/fwd.err" '^connection [0-9]+ closed: 1000' 3 5 || fail "the relayed connections did not close with 1000"
  # The same in azbridge mode (azbridge itself half-closes this way), on hc2.
  start_forwarder fwd2 -c "$CS2" --forward "late=127.0.0.1:$ep"
  lp2=$(free_port)
  start_bridge bridge2 "$lp2" -c "$CS2" --azbridge-port late
  for n in 10 3000000; do
    out=$(timeout 30 "$NODE" "$TOOLS" halfclose "$lp2" "$n" 2>&1) || fail "azbridge half-close, $n bytes: $out"
    log "ok: azbridge, $n bytes: $out"
  done
}

# ---- the relay fails after the sender's Close ----

# The sender sends its bytes and its Close; the listener has them all, but the target has read
# none yet (it starts reading 6 s after accepting). Then the relay dies with a reset (stopped, so
# the listener's keep-alive Pong stays unread, then killed), before any close handshake. The
# sender's data was complete when its Close came: the target must still get every byte, not a
# reset (forward.c, sender_done).
case_relay_gone() {
  need_cmd "$NODE" nodejs
  local sp lp bytes=3000000 rc=0
  start_emulator
  sp=$(free_port)
  start_bg sink "$NODE" "$TOOLS" sink "$sp" 6000
  wait_port "$sp" "$LAST_PID" 15 || fail "the sink did not start"
  start_forwarder fwd --forward "127.0.0.1:$sp" --set AzureRelayKeepAliveTime=1
  lp=$(free_port)
  start_bridge bridge "$lp"
  start_bg source "$NODE" "$TOOLS" source "$lp" 1 "$bytes" gone-seed
  wait_lines "$T/fwd.err" 'the sender ended its side' 1 20 || fail "the sender's Close did not reach the listener"
  kill -STOP "$EMU_PID"
  sleep 1.5 # a keep-alive Pong from the listener now waits unread: the kill below resets
  kill -KILL "$EMU_PID"
  wait_lines "$T/fwd.err" '^connection [0-9]+ closed' 1 10 || fail "the listener did not see the relay go"
  log "listener: $(grep '^connection [0-9]* closed' "$T/fwd.err")"
  wait_lines "$T/sink.out" '"bytes"' 1 30 || fail "the sink did not see the connection end"
  local sent got
  wait_lines "$T/source.out" '"bytes"' 1 10 || true
  sent=$(sed -n 's/.*"bytes":\([0-9]*\),"sha":"\([0-9a-f]*\)".*/\1 \2/p' "$T/source.out")
  got=$(sed -n 's/.*"bytes":\([0-9]*\),"sha":"\([0-9a-f]*\)".*/\1 \2/p' "$T/sink.out")
  [[ -n $sent && $sent == "$got" ]] || fail "the target got '$(head -c 300 "$T/sink.out")', the sender sent '$sent'"
  log "ok: $bytes bytes reached the target after the relay died: ${got:0:30}..."
}

case $CASE in
  redis | redis_azbridge | azbridge_bytes | bulk | reader_stops | client_stops | kill | half_close | relay_gone) "case_$CASE" ;;
  *) fail "unknown case '$CASE'" ;;
esac
log "PASS"
