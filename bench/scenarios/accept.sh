# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# Scenario "accept" of bench/run.sh: new senders per second that a listener accepts and echoes once
# (relay_load --mode churn: each sender connects, echoes one 16-byte message and closes, at most
# CHURN_CONCURRENCY at a time), and the listener's CPU per accepted connection, ours vs hyco-ws, next
# to what the public-key operations of one TLS handshake cost per curve on this machine.

# openssl speed's ops/s of one algorithm (ecdhx25519, ecdsap256...): "op/s" for ECDH, "sign/s verify/s"
# for ECDSA; prints the numbers of its result line.
pk_speed() {
  openssl speed -seconds 1 "$1" 2>/dev/null | awk '/ ecdh \(| ecdsa \(/ { n = NF; print ($0 ~ /ecdsa/) ? $(n - 1) " " $n : $n }'
}
ms_per_op() { awk -v r="$1" 'BEGIN { if (r > 0) printf "%.3f\n", 1000 / r; else print "n/a" }'; }
# handshake_floor ECDH_OPS VERIFY_OPS: ms of two ECDH operations and one ECDSA verify.
handshake_floor() { awk -v x="$1" -v v="$2" 'BEGIN { if (x > 0 && v > 0) printf "%.3f\n", 2000 / x + 1000 / v; else print "n/a" }'; }

scenario_accept() {
  local x25519 p256 p384 ecdsa256 ecdsa384 kind pid hc l0 e0 j l1 e1 rate ms ems clients k
  declare -A ACC_RATE ACC_MS
  log "== accept: TLS public-key operations per curve (openssl speed, 1 s each)"
  x25519=$(pk_speed ecdhx25519)
  p256=$(pk_speed ecdhp256)
  p384=$(pk_speed ecdhp384)
  ecdsa256=$(pk_speed ecdsap256)
  ecdsa384=$(pk_speed ecdsap384)
  local v256=${ecdsa256#* } v384=${ecdsa384#* } floor
  floor=$(handshake_floor "$x25519" "$v256")
  {
    echo "## Accept rate: new senders accepted and echoed once"
    echo
    echo "Cost of one public-key operation on this machine (openssl speed, one core):"
    echo
    echo "| operation | ms per operation |"
    echo "|---|---|"
    echo "| ECDH X25519 | $(ms_per_op "$x25519") |"
    echo "| ECDH P-256 | $(ms_per_op "$p256") |"
    echo "| ECDH P-384 | $(ms_per_op "$p384") |"
    echo "| ECDSA P-256 sign / verify | $(ms_per_op "${ecdsa256% *}") / $(ms_per_op "$v256") |"
    echo "| ECDSA P-384 sign / verify | $(ms_per_op "${ecdsa384% *}") / $(ms_per_op "$v384") |"
    echo
    echo "A TLS 1.3 client handshake against the emulator (P-256 certificate) costs the client at least a key"
    echo "share (about one ECDH operation), the shared secret (one) and the verification of the server's"
    echo "CertificateVerify (one ECDSA P-256 verify): the floor per rendezvous handshake is"
    echo "$floor ms with X25519, $(handshake_floor "$p256" "$v256") ms with P-256 and"
    echo "$(handshake_floor "$p384" "$v256") ms with P-384 key shares."
    echo
  } >>"$report"

  log "== accept: $CHURN senders, $CHURN_CONCURRENCY at a time, one 16-byte echo each"
  start_listener ours accept-ours ours-accept
  local ours=$LISTENER
  start_listener node accept-node node-accept
  local node=$LISTENER
  {
    echo "relay_load --mode churn: $CHURN senders, at most $CHURN_CONCURRENCY at a time; each connects, echoes one"
    echo "16-byte message and closes. A warm-up of 50 senders per listener comes first. CPU from /proc/PID/stat."
    echo "The senders (our azr_client, the same for both listeners) run twice: a new client per sender (its"
    echo "own TLS context and trusted CAs, a full handshake), and $CHURN_CONCURRENCY clients that connect again for the"
    echo "next senders (--reuse-clients, as a sending application keeps its client: the session resumes). The"
    echo "load generator shares the 2 cores with the emulator and the listener, so its cost caps accepts/s."
    echo
    echo "| listener | senders' clients | senders | wall s | accepts/s | listener CPU s | listener CPU ms per accept | emulator CPU ms per accept | sender CPU ms per connection |"
    echo "|---|---|---|---|---|---|---|---|---|"
  } >>"$report"
  for clients in new reused; do
    local reuse=()
    [[ $clients == reused ]] && reuse=(--reuse-clients)
    for kind in ours node; do
      if [[ $kind == ours ]]; then pid=$ours hc=accept-ours; else pid=$node hc=accept-node; fi
      load "$hc" "accept-warm-$kind-$clients" --mode churn --connections 50 --connect-concurrency $CHURN_CONCURRENCY --messages 1 --message-size 16 "${reuse[@]}" >/dev/null
      log "   $kind, $clients clients"
      l0=$(cpu_ticks "$pid")
      e0=$(cpu_ticks "$EMU")
      j=$(load "$hc" "accept-$kind-$clients" --mode churn --connections "$CHURN" --connect-concurrency $CHURN_CONCURRENCY --messages 1 --message-size 16 "${reuse[@]}")
      l1=$(cpu_ticks "$pid")
      e1=$(cpu_ticks "$EMU")
      [[ $(json "$j" opened) == "$CHURN" && $(json "$j" messages) == "$CHURN" ]] ||
        { log "accept: $(json "$j" opened) of $CHURN senders opened, $(json "$j" messages) echoed"; exit 1; }
      rate=$(json "$j" accepts_per_s)
      ms=$(calc "($l1 - $l0) / $CLK_TCK * 1000 / $CHURN" 3)
      ems=$(calc "($e1 - $e0) / $CLK_TCK * 1000 / $CHURN" 3)
      k=$kind-$clients
      ACC_RATE[$k]=$rate
      ACC_MS[$k]=$ms
      echo "| $(listener_name $kind) | $clients | $CHURN | $(json "$j" wall_s) | $rate | $(calc "($l1 - $l0) / $CLK_TCK" 2) | **$ms** | $ems | $(calc "$(json "$j" cpu_s) * 1000 / $CHURN" 3) |" >>"$report"
    done
  done
  {
    echo
    echo "Per accept (new clients), our listener spends $(ratio "${ACC_MS[ours-new]}" "$floor") and hyco-ws $(ratio "${ACC_MS[node-new]}" "$floor") times the X25519 floor above."
    echo
  } >>"$report"
  stop "$ours"
  stop "$node"

  compare accept "accepts/s (each echoes once; new clients)" "${ACC_RATE[ours-new]}" "${ACC_RATE[node-new]}" "hyco-ws"
  compare accept "accepts/s (each echoes once; reused clients)" "${ACC_RATE[ours-reused]}" "${ACC_RATE[node-reused]}" "hyco-ws"
  compare accept "listener CPU ms per accept (new clients)" "${ACC_MS[ours-new]}" "${ACC_MS[node-new]}" "hyco-ws"
  local r
  r=$(ratio "${ACC_MS[ours-new]}" "${ACC_MS[node-new]}")
  goal "listener CPU per accept, ours / hyco-ws" "≤ 0.5" "$r" "$(at_most "$r" 0.5)"
  goal "listener CPU per accept, ours" "≤ 1.5 ms" "${ACC_MS[ours-new]} ms (hyco-ws ${ACC_MS[node-new]} ms)" "$(at_most "${ACC_MS[ours-new]}" 1.5)"
  r=$(ratio "${ACC_RATE[ours-new]}" "${ACC_RATE[node-new]}")
  goal "accepts/s, ours / hyco-ws (a new client per sender)" "≥ 2" "$r" "$(at_least "$r" 2)"
  r=$(ratio "${ACC_RATE[ours-reused]}" "${ACC_RATE[node-reused]}")
  goal "accepts/s, ours / hyco-ws ($CHURN_CONCURRENCY reused sender clients)" "≥ 2" "$r" "$(at_least "$r" 2)"
}
