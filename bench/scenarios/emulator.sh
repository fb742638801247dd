# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# Scenario "emulator" of bench/run.sh: the emulator's throughput and CPU per GB relayed (64 KiB binary
# messages one way, relay_load -> emulator -> sink_listener) against AES-GCM's speed on this machine.

aes_bps() { # cipher -> bytes/s for 16384-byte blocks ("k" = 1000 bytes)
  openssl speed -evp "$1" -bytes 16384 -seconds "$SPEED_SECONDS" 2>/dev/null |
    awk -v c="$(tr '[:lower:]' '[:upper:]' <<<"$1")" '$1 == c { v = $NF; sub(/k$/, "", v); print v * 1000 }'
}

# The same one-way relay through a second emulator serving ws:// (--plain): what the kernel's TCP
# and the WebSocket framing cost without TLS. Prints "CPU_S_PER_GB SYSTEM_S_PER_GB".
plain_relay_cost() {
  local per_conn=$1 out=$WORK/emulator-plain.out pid cs sink e0 es0 e1 es1 j gb
  "$AZRELAY" emulator --plain --port 0 --hc oneway --log-level 0 >"$out" 2>"$WORK/emulator-plain.err" &
  pid=$!
  pids+=("$pid")
  wait_for "$out" '^ready' 20
  cs=$(sed -n 's/^connection string oneway: //p' "$out")
  "$SINK" -c "$cs" >"$WORK/sink-plain.out" 2>"$WORK/sink-plain.err" &
  sink=$!
  pids+=("$sink")
  wait_for "$WORK/sink-plain.err" '^listening' 20
  e0=$(cpu_ticks "$pid")
  es0=$(sys_ticks "$pid")
  if ! "$RELAY_LOAD" -c "$cs" --mode oneway --connections $ONEWAY_CONNS --message-size 64K --messages "$per_conn" \
    >"$WORK/oneway-plain.json" 2>"$WORK/oneway-plain.err"; then
    log "relay_load (plain relay) reported errors:"
    cat "$WORK/oneway-plain.err" >&2
    exit 1
  fi
  e1=$(cpu_ticks "$pid")
  es1=$(sys_ticks "$pid")
  stop "$sink"
  stop "$pid"
  j=$(last_json "$WORK/oneway-plain.json")
  [[ $(json "$(last_json "$WORK/sink-plain.out")" bytes) == "$(json "$j" bytes)" ]] ||
    { log "plain relay: the sink got $(json "$(last_json "$WORK/sink-plain.out")" bytes) of $(json "$j" bytes) bytes"; exit 1; }
  gb=$(calc "$(json "$j" bytes) / 1e9" 6)
  echo "$(calc "($e1 - $e0) / $CLK_TCK / $gb" 3) $(calc "($es1 - $es0) / $CLK_TCK / $gb" 3)"
}

scenario_emulator() {
  local aes128 aes256 floor128 floor256 per_conn e0 es0 s0 e1 es1 s1 j sink_json bytes gb wall emu_cpu emu_per_gb
  local plain plain_per_gb plain_sys_per_gb
  log "== emulator: AES-GCM speed (openssl speed, ${SPEED_SECONDS}s each)"
  aes128=$(aes_bps aes-128-gcm)
  aes256=$(aes_bps aes-256-gcm)
  floor128=$(calc "1e9 / $aes128" 4) # CPU seconds per GB
  floor256=$(calc "1e9 / $aes256" 4)

  log "== emulator: one way, 64 KiB messages, $(calc "$ONEWAY_BYTES / 1e9" 1) GB through the emulator"
  start_listener sink oneway sink
  local sink_pid=$LISTENER
  per_conn=$(((ONEWAY_BYTES + ONEWAY_CONNS * 65536 - 1) / (ONEWAY_CONNS * 65536)))
  e0=$(cpu_ticks "$EMU")
  es0=$(sys_ticks "$EMU")
  s0=$(cpu_ticks "$sink_pid")
  j=$(load oneway oneway --mode oneway --connections $ONEWAY_CONNS --message-size 64K --messages $per_conn)
  e1=$(cpu_ticks "$EMU")
  es1=$(sys_ticks "$EMU")
  s1=$(cpu_ticks "$sink_pid")
  stop "$sink_pid"
  sink_json=$(last_json "$WORK/sink.out")
  bytes=$(json "$j" bytes)
  [[ $(json "$sink_json" bytes) == "$bytes" ]] || { log "the sink got $(json "$sink_json" bytes) of $bytes bytes"; exit 1; }
  gb=$(calc "$bytes / 1e9" 6)
  wall=$(json "$j" wall_s)
  emu_cpu=$(calc "($e1 - $e0) / $CLK_TCK" 2)
  emu_per_gb=$(calc "$emu_cpu / $gb" 3)
  log "== emulator: the same relay without TLS (emulator --plain)"
  plain=$(plain_relay_cost "$per_conn")
  plain_per_gb=${plain% *}
  plain_sys_per_gb=${plain#* }
  {
    echo "## Emulator: relay throughput and CPU per GB (64 KiB binary messages, one way)"
    echo
    echo "$ONEWAY_CONNS sender connections (relay_load --mode oneway) → emulator → sink_listener; $(calc "$gb" 2) GB of payload."
    echo
    echo "| measure | value |"
    echo "|---|---|"
    echo "| wall time | ${wall} s |"
    echo "| throughput through the emulator | $(calc "$gb / $wall" 3) GB/s |"
    echo "| emulator CPU | ${emu_cpu} s (system $(calc "($es1 - $es0) / $CLK_TCK" 2) s) → **${emu_per_gb} s per GB** |"
    echo "| sink listener CPU (TLS decrypt + frame parse) | $(calc "($s1 - $s0) / $CLK_TCK" 2) s → $(calc "($s1 - $s0) / $CLK_TCK / $gb" 3) s per GB |"
    echo "| sender CPU (relay_load: mask + TLS encrypt) | $(json "$j" cpu_s) s → $(calc "$(json "$j" cpu_s) / $gb" 3) s per GB |"
    echo "| AES-128-GCM, 16 KiB blocks (openssl speed) | $(calc "$aes128 / 1e9" 3) GB/s → floor ${floor128} s per GB |"
    echo "| AES-256-GCM (the suite TLS 1.3 negotiates here) | $(calc "$aes256 / 1e9" 3) GB/s → ${floor256} s per GB |"
    echo "| **ratio emulator CPU per GB / AES-128-GCM floor** (goal ≤ 4) | **$(calc "$emu_per_gb / $floor128" 2)** |"
    echo "| same ratio against AES-256-GCM | $(calc "$emu_per_gb / $floor256" 2) |"
    echo "| the same relay without TLS (emulator --plain): CPU per GB | ${plain_per_gb} s (system ${plain_sys_per_gb} s) = $(calc "$plain_per_gb / $floor128" 2) floors |"
    echo "| TLS's share of the emulator's CPU per GB (TLS run − plain run) | $(calc "$emu_per_gb - $plain_per_gb" 3) s = $(calc "($emu_per_gb - $plain_per_gb) / $floor128" 2) floors |"
    echo
    echo "The emulator decrypts, unmasks and re-encrypts every byte, so about 2 floors is the minimum for the"
    echo "cipher alone; the plain run shows what the kernel's loopback TCP (receive and send of every byte)"
    echo "and the framing add on this machine, which no change to the emulator's TLS can remove."
    echo
  } >>"$report"
  compare emulator "CPU s per GB relayed (64 KiB one way)" "$emu_per_gb" "$floor128" "AES-128-GCM floor (openssl speed)"
  compare emulator "CPU s per GB relayed, TLS vs without TLS" "$emu_per_gb" "$plain_per_gb" "the same emulator with --plain"
  goal "emulator CPU per GB relayed / AES-128-GCM floor" "≤ 4" "$(calc "$emu_per_gb / $floor128" 2)" \
    "$(at_most "$(calc "$emu_per_gb / $floor128" 4)" 4)"
}
