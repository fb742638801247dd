# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# Scenario "echo" of bench/run.sh: relay_load --mode echo against azrelay listen --echo and against
# the hyco-ws listener on the same emulator, message sizes 1 KiB to 1 MiB: messages/s, MB/s, listener
# CPU per GB echoed and the listener's system calls per echoed message.

# echo_run KIND PID HC SIZE MESSAGES: one timed run; sets J (relay_load's JSON), LCPU, ECPU (ticks)
# and SC (system calls of the listener, and SC_MSGS, the messages they were counted over).
echo_run() {
  local kind=$1 pid=$2 hc=$3 size=$4 m=$5 l0 e0 opts
  opts=(--mode echo --connections $ECHO_CONNS --window $ECHO_WINDOW --message-size "$size")
  [[ $SC_TOOL == perf ]] && sc_begin "$pid"
  l0=$(cpu_ticks "$pid")
  e0=$(cpu_ticks "$EMU")
  J=$(load "$hc" "echo-$kind-$size" "${opts[@]}" --messages "$m")
  LCPU=$(($(cpu_ticks "$pid") - l0))
  ECPU=$(($(cpu_ticks "$EMU") - e0))
  SC=""
  SC_TOP=n/a
  SC_MSGS=$(json "$J" messages)
  if [[ $SC_TOOL == perf ]]; then
    sc_end
  elif [[ $SC_TOOL == strace ]]; then # it slows the listener: a separate, shorter run
    local ms=$(((m + 3) / 4)) js
    sc_begin "$pid"
    js=$(load "$hc" "echo-$kind-$size-strace" "${opts[@]}" --messages "$ms")
    sc_end
    SC_MSGS=$(json "$js" messages)
  fi
  SC=$SC_COUNT
  [[ -n $SC ]] && SC_TOP=$(sc_top 4 "$SC_MSGS")
}

scenario_echo() {
  local ours node size cal jo m kind pid hc gb lcpu name sc_per_msg calls=()
  declare -gA ECHO_RATE ECHO_MBPS ECHO_CPU_GB ECHO_SC
  log "== echo: azrelay listen --echo and hyco-ws, sizes $ECHO_SIZES"
  start_listener ours echo-ours ours-echo
  ours=$LISTENER
  start_listener node echo-node node-echo
  node=$LISTENER
  {
    echo "## Echo listener by message size: messages/s, listener CPU per GB, system calls per message"
    echo
    echo "relay_load --mode echo, $ECHO_CONNS connections, window $ECHO_WINDOW, the same messages against both"
    echo "listeners on the same emulator. GB echoed = messages × size (each byte is received and sent"
    echo "back by the listener). Message counts are calibrated so our listener runs about ${ECHO_SECONDS} s."
    echo "System calls: every call of every thread of the listener process during the run (${SC_TOOL:-not counted})"
    echo "divided by the messages echoed."
    echo
    echo "| size | listener | messages | wall s | messages/s | MB/s | listener CPU s | listener CPU s per GB | system calls per message | emulator CPU s per GB |"
    echo "|---|---|---|---|---|---|---|---|---|---|"
  } >>"$report"
  : >"$WORK/echo.dat"
  for size in $ECHO_SIZES; do
    # Calibration (and warm-up of both listeners, Node's JIT): a short run each; ours sets the count.
    cal=$(awk -v s="$size" -v k=$CAL_SCALE 'BEGIN { m = int(k * 1000 * sqrt(1024 / s)); print (m < 16 ? 16 : m) }')
    jo=$(load echo-ours "cal-ours-$size" --mode echo --connections $ECHO_CONNS --window $ECHO_WINDOW --message-size "$size" --messages "$cal")
    load echo-node "cal-node-$size" --mode echo --connections $ECHO_CONNS --window $ECHO_WINDOW --message-size "$size" --messages "$cal" >/dev/null
    m=$(awk -v r="$(json "$jo" msgs_per_s)" -v t="$ECHO_SECONDS" -v n=$ECHO_CONNS 'BEGIN { m = int(r * t / n); print (m < 16 ? 16 : m) }')
    for kind in ours node; do
      if [[ $kind == ours ]]; then pid=$ours hc=echo-ours; else pid=$node hc=echo-node; fi
      while :; do
        log "   $kind, $size-byte messages, $ECHO_CONNS x $m"
        echo_run "$kind" "$pid" "$hc" "$size" "$m"
        # A full run of ours lasts at least MIN_ECHO_SECONDS: a short calibration can be optimistic.
        [[ $kind == node ]] || awk -v w="$(json "$J" wall_s)" -v min="$MIN_ECHO_SECONDS" 'BEGIN { exit !(w >= min) }' && break
        m=$(awk -v m="$m" -v w="$(json "$J" wall_s)" -v t="$ECHO_SECONDS" 'BEGIN { print int(m * t / w) + 1 }')
      done
      gb=$(calc "$(json "$J" bytes) / 1e9" 6)
      lcpu=$(calc "$LCPU / $CLK_TCK" 2)
      ECHO_RATE[$kind$size]=$(json "$J" msgs_per_s)
      ECHO_MBPS[$kind$size]=$(json "$J" mb_per_s)
      ECHO_CPU_GB[$kind$size]=$(calc "$LCPU / $CLK_TCK / $gb" 3)
      sc_per_msg=n/a
      [[ -n $SC ]] && sc_per_msg=$(calc "$SC / $SC_MSGS" 2)
      ECHO_SC[$kind$size]=$sc_per_msg
      name=$(listener_name $kind)
      [[ $kind == node ]] && name="$name (Node $(node --version))"
      calls+=("| $(size_name "$size") | $(listener_name $kind) | $SC_TOP |")
      echo "| $(size_name "$size") | $name | $(json "$J" messages) | $(json "$J" wall_s) | ${ECHO_RATE[$kind$size]} | ${ECHO_MBPS[$kind$size]} | $lcpu | ${ECHO_CPU_GB[$kind$size]} | $sc_per_msg | $(calc "$ECPU / $CLK_TCK / $gb" 3) |" >>"$report"
    done
    echo "$size ${ECHO_RATE[ours$size]} ${ECHO_MBPS[ours$size]} ${ECHO_CPU_GB[ours$size]} ${ECHO_RATE[node$size]} ${ECHO_MBPS[node$size]} ${ECHO_CPU_GB[node$size]}" >>"$WORK/echo.dat"
  done
  {
    echo
    echo "The most frequent system calls per echoed message (${SC_TOOL:-not counted}; a call that is"
    echo "not in \"$SC_CALLS_WATCHED\" is counted in the total above only, with perf):"
    echo
    echo "| size | listener | calls per message |"
    echo "|---|---|---|"
    printf '%s\n' "${calls[@]}"
    echo
  } >>"$report"
  stop "$ours"
  stop "$node"

  for size in $ECHO_SIZES; do
    compare "echo $(size_name "$size")" "messages/s" "${ECHO_RATE[ours$size]}" "${ECHO_RATE[node$size]}" "hyco-ws"
    compare "echo $(size_name "$size")" "listener CPU s per GB" "${ECHO_CPU_GB[ours$size]}" "${ECHO_CPU_GB[node$size]}" "hyco-ws"
    compare "echo $(size_name "$size")" "listener system calls per message" "${ECHO_SC[ours$size]}" "${ECHO_SC[node$size]}" "hyco-ws"
  done
  local r64 r1 s1
  r64=$(ratio "${ECHO_CPU_GB[ours65536]:-}" "${ECHO_CPU_GB[node65536]:-}")
  r1=$(ratio "${ECHO_CPU_GB[ours1024]:-}" "${ECHO_CPU_GB[node1024]:-}")
  s1=${ECHO_SC[ours1024]:-n/a}
  goal "64 KiB echo: listener CPU per GB, ours / hyco-ws" "≤ 0.2" "$r64" "$(at_most "$r64" 0.2)"
  goal "1 KiB echo: listener CPU per GB, ours / hyco-ws" "≤ 0.33" "$r1" "$(at_most "$r1" 0.33)"
  goal "1 KiB echo, window $ECHO_WINDOW: our listener's system calls per echoed message" "≤ 0.5" \
    "$s1 (hyco-ws ${ECHO_SC[node1024]:-n/a})" "$(at_most "$s1" 0.5)"
}

size_name() { # bytes -> "1 KiB", "1 MiB"
  awk -v s="$1" 'BEGIN { if (s >= 1048576 && s % 1048576 == 0) printf "%d MiB\n", s / 1048576; else if (s >= 1024 && s % 1024 == 0) printf "%d KiB\n", s / 1024; else printf "%d B\n", s }'
}
