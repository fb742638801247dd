# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# Scenario "conns" of bench/run.sh: a fresh listener of each kind (azrelay listen --echo, hyco-ws)
# and its resident memory as idle connections are added up to each count of CONN_STEPS ("max": as
# many as the emulator's descriptors allow, at most 10,000). relay_load processes (at most
# CONNS_PER_LOADER connections each: a sender costs relay_load about 3 descriptors) hold them open.

CONNS_PER_LOADER=4000

emu_fds() { find "/proc/$EMU/fd" -mindepth 1 -maxdepth 1 | wc -l; }
emu_fd_limit() { awk '/^Max open files/ { print $4 }' "/proc/$EMU/limits"; }

# conns_max: the relayed connections the emulator can still take. Each costs it 2 descriptors (the
# sender's socket and the listener's rendezvous socket); 64 stay free for the control channels and
# accepts in progress.
conns_max() {
  local n=$((($(emu_fd_limit) - $(emu_fds) - 64) / 2))
  ((n > 10000)) && n=10000
  echo "$n"
}

# conns_curve KIND: one listener's row per step; appends "count rss_kib" lines to conns-KIND.dat.
conns_curve() {
  local kind=$1 pid r0 er0 total=0 step target add chunk loaders=() n=0 f t0 t1 opened r er max p i
  if [[ $kind == ours ]]; then
    # MaxConnections (default 1000) caps what the listener accepts; 0 = no limit.
    start_listener ours conns-ours conns-ours --set MaxConnections=0
  else
    start_listener node conns-node conns-node
  fi
  pid=$LISTENER
  sleep 1
  r0=$(rss_kib "$pid")
  er0=$(rss_kib "$EMU")
  echo "0 $r0" >"$WORK/conns-$kind.dat"
  echo "| $(listener_name "$kind") | 0 | $r0 | | | $er0 |" >>"$report"
  max=$(conns_max)
  for step in $CONN_STEPS; do
    target=$step
    [[ $step == max ]] && target=$max
    ((target > max)) && target=$max
    ((target > total)) || continue
    add=$((target - total))
    t0=$(date +%s.%N)
    while ((add > 0)); do
      chunk=$((add < CONNS_PER_LOADER ? add : CONNS_PER_LOADER))
      f=$WORK/conns-$kind-$n
      "$RELAY_LOAD" -c "$(connstr "conns-$kind")" --cacert "$CA" --mode oneway --connections "$chunk" --messages 0 \
        --hold-seconds 3600 >"$f.json" 2>"$f.err" &
      loaders+=($!)
      pids+=($!)
      n=$((n + 1))
      if ! wait_for "$f.err" '^open [0-9]+' $((60 + chunk / 20)); then
        CONNS_SHORT[$kind]="a step of $chunk connections did not finish opening in $((60 + chunk / 20)) s; stopped at $total"
        break 2
      fi
      opened=$(sed -n 's/^open //p' "$f.err")
      total=$((total + opened))
      add=$((add - chunk))
      if ((opened < chunk)); then
        log "   $kind: only $opened of $chunk connections opened:"
        grep -v '^open' "$f.err" | head -3 >&2
        CONNS_SHORT[$kind]="$opened of $chunk opened in the last step: $(grep -v '^open' "$f.err" | head -1)"
        break
      fi
    done
    t1=$(date +%s.%N)
    sleep 2
    r=$(rss_kib "$pid")
    er=$(rss_kib "$EMU")
    log "   $kind: $total connections, RSS $r KiB"
    echo "$total $r" >>"$WORK/conns-$kind.dat"
    echo "| $(listener_name "$kind") | $total | $r | $(calc "($r - $r0) / $total" 1) | $(calc "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" 1) | $er |" >>"$report"
    CONNS_TOP[$kind]=$total
    CONNS_PER[$kind]=$(calc "($r - $r0) / $total" 1)
    EMU_PER[$kind]=$(calc "($er - $er0) / $total" 1)
    [[ -n ${CONNS_SHORT[$kind]:-} ]] && break
  done
  # Closing thousands of connections takes a while; the next curve needs the descriptors back.
  for p in "${loaders[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${loaders[@]}"; do wait "$p" 2>/dev/null || true; done
  stop "$pid"
  for ((i = 0; i < 600; i++)); do (($(emu_fds) < 200)) && break; sleep 0.1; done
}

scenario_conns() {
  declare -gA CONNS_TOP CONNS_PER CONNS_SHORT EMU_PER
  log "== conns: listener RSS by idle connections ($CONN_STEPS)"
  {
    echo "## Resident memory by idle connection count"
    echo
    echo "A fresh listener of each kind; relay_load processes (--messages 0 --hold-seconds) open idle connections"
    echo "up to each count ($CONN_STEPS; \"max\" is what the emulator's descriptors allow, at most 10,000) and"
    echo "keep them open; VmRSS is read 2 s after each step. The emulator's limit: $(emu_fd_limit) descriptors per"
    echo "process (ulimit -Hn, not raisable here), 2 per relayed connection."
    echo
    echo "| listener | connections | RSS KiB | KiB per connection (from 0) | seconds to open this step | emulator RSS KiB |"
    echo "|---|---|---|---|---|---|"
  } >>"$report"
  conns_curve ours
  conns_curve node
  echo >>"$report"
  local k
  for k in ours node; do
    [[ -n ${CONNS_SHORT[$k]:-} ]] && echo "- $(listener_name $k): ${CONNS_SHORT[$k]}" >>"$report"
  done
  echo "- emulator RSS growth per relayed connection (first curve, fresh heap): ${EMU_PER[ours]:-n/a} KiB" >>"$report"
  echo >>"$report"
  compare conns "RSS per idle connection, KiB (at ${CONNS_TOP[ours]:-?} / ${CONNS_TOP[node]:-?} connections)" \
    "${CONNS_PER[ours]:-}" "${CONNS_PER[node]:-}" "hyco-ws"
  goal "RSS per idle connection, ours (at ${CONNS_TOP[ours]:-?} connections)" "≤ 40 KiB" "${CONNS_PER[ours]:-n/a} KiB (hyco-ws ${CONNS_PER[node]:-n/a})" \
    "$(at_most "${CONNS_PER[ours]:-}" 40)"
  local why="" verdict
  verdict=$(at_least "${CONNS_TOP[ours]:-0}" 10000)
  if ((${CONNS_TOP[ours]:-0} < 10000)); then
    why=" (the emulator's $(emu_fd_limit) descriptors allow about $((($(emu_fd_limit) - 64) / 2)) relayed connections)"
    # Steps that never asked for 10,000 (--quick) measured nothing about it.
    [[ " $CONN_STEPS " == *" max "* ]] || awk -v s="$CONN_STEPS" 'BEGIN { n = split(s, a, " "); for (i = 1; i <= n; i++) if (a[i] >= 10000) exit 0; exit 1 }' ||
      { verdict="not measured (steps: $CONN_STEPS)"; why=""; }
  fi
  goal "connections open on one listener" "10,000" "${CONNS_TOP[ours]:-0}$why" "$verdict"
}
