# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# Scenario "conns" of bench/run.sh: a fresh listener of each kind (azrelay listen --echo, hyco-ws)
# and its resident memory as idle connections are added up to each count of CONN_STEPS ("max":
# 10,000). relay_load processes (at most CONNS_PER_LOADER connections each) hold them open.
#
# A relayed connection costs an emulator 2 descriptors, so one emulator process stops short of
# 10,000 under a 20,000-descriptor limit. This scenario runs its own emulators: a home that holds the
# listeners' control channels and a gateway (docs/EMULATOR.md, "Gateways"); the relay_load processes
# alternate between them, so each holds about half of the relayed pairs, and both listeners see
# their rendezvous addresses on two ports, as on Azure.

CONNS_PER_LOADER=4000
CONNS_GOAL=10000

emu_fds() { find "/proc/$1/fd" -mindepth 1 -maxdepth 1 | wc -l; }
emu_fd_limit() { awk '/^Max open files/ { print $4 }' "/proc/$1/limits"; }

# conns_max: the relayed connections home and gateway can still take together, at most CONNS_GOAL.
# 64 descriptors of each stay free for control channels and accepts in progress.
conns_max() {
  local n=$((($(emu_fd_limit "$CONNS_HOME") - $(emu_fds "$CONNS_HOME") - 64) / 2 + ($(emu_fd_limit "$CONNS_GW") - $(emu_fds "$CONNS_GW") - 64) / 2))
  ((n > CONNS_GOAL)) && n=$CONNS_GOAL
  echo "$n"
}

# conns_emulators: a home and a gateway sharing one certificate and key; sets CONNS_HOME, CONNS_GW,
# CONNS_CA, EMU_OUT (the home's connection strings) and CONNS_GW_PORT.
conns_emulators() {
  local secret home_port
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=localhost \
    -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" -keyout "$WORK/conns-key.pem" -out "$WORK/conns-cert.pem" 2>/dev/null
  secret=$(openssl rand -hex 24)
  # One namespace: both emulators take the same rule key (each draws its own otherwise).
  export AZRELAY_EMULATOR_KEY
  AZRELAY_EMULATOR_KEY=$(openssl rand -base64 32)
  "$AZRELAY" emulator --port 0 --hc conns-ours,conns-node --tls-cert "$WORK/conns-cert.pem" --tls-key "$WORK/conns-key.pem" \
    --set MaxConnections=100000 --set "GatewaySecret=$secret" --log-level 0 >"$WORK/conns-home.out" 2>"$WORK/conns-home.err" &
  CONNS_HOME=$!
  pids+=("$CONNS_HOME")
  wait_for "$WORK/conns-home.out" '^ready' 20
  home_port=$(sed -n 's|^endpoint: https://[^:]*:\([0-9]*\)/.*|\1|p' "$WORK/conns-home.out")
  "$AZRELAY" emulator --port 0 --hc conns-ours,conns-node --tls-cert "$WORK/conns-cert.pem" --tls-key "$WORK/conns-key.pem" \
    --set MaxConnections=100000 --set "GatewaySecret=$secret" --set "HomeAddress=127.0.0.1:$home_port" --log-level 0 \
    >"$WORK/conns-gw.out" 2>"$WORK/conns-gw.err" &
  CONNS_GW=$!
  pids+=("$CONNS_GW")
  wait_for "$WORK/conns-gw.out" '^ready' 20
  unset AZRELAY_EMULATOR_KEY
  CONNS_GW_PORT=$(sed -n 's|^endpoint: https://[^:]*:\([0-9]*\)/.*|\1|p' "$WORK/conns-gw.out")
  CONNS_HOME_PORT=$home_port
  CONNS_CA=$WORK/conns-cert.pem
  EMU_OUT=$WORK/conns-home.out
}

# conns_connstr HC N: the connection string of loader N: the home's for even N, the gateway's for odd.
conns_connstr() {
  local cs
  cs=$(connstr "$1")
  if (($2 % 2)); then echo "${cs/:$CONNS_HOME_PORT\//:$CONNS_GW_PORT/}"; else echo "$cs"; fi
}
emu_rss() { echo $(($(rss_kib "$CONNS_HOME") + $(rss_kib "$CONNS_GW"))); }

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
  er0=$(emu_rss)
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
      "$RELAY_LOAD" -c "$(conns_connstr "conns-$kind" "$n")" --cacert "$CA" --mode oneway --connections "$chunk" --messages 0 \
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
    er=$(emu_rss)
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
  for ((i = 0; i < 600; i++)); do (($(emu_fds "$CONNS_HOME") + $(emu_fds "$CONNS_GW") < 200)) && break; sleep 0.1; done
}

scenario_conns() {
  declare -gA CONNS_TOP CONNS_PER CONNS_SHORT EMU_PER
  log "== conns: listener RSS by idle connections ($CONN_STEPS)"
  conns_emulators
  local saved_ca=$CA
  CA=$CONNS_CA
  {
    echo "## Resident memory by idle connection count"
    echo
    echo "A fresh listener of each kind; relay_load processes (--messages 0 --hold-seconds) open idle connections"
    echo "up to each count ($CONN_STEPS; \"max\" is 10,000) and keep them open; VmRSS is read 2 s after each"
    echo "step. A relayed connection costs an emulator 2 descriptors and one process may hold"
    echo "$(emu_fd_limit "$CONNS_HOME") here (ulimit -Hn, not raisable), so this scenario runs two emulators: a home"
    echo "that holds the control channels and a gateway (docs/EMULATOR.md, \"Gateways\"); the relay_load"
    echo "processes ($CONNS_PER_LOADER connections each at most) alternate between them. Emulator RSS is the"
    echo "sum of both."
    echo
    echo "| listener | connections | RSS KiB | KiB per connection (from 0) | seconds to open this step | emulator RSS KiB |"
    echo "|---|---|---|---|---|---|"
  } >>"$report"
  conns_curve ours
  conns_curve node
  CA=$saved_ca
  unset EMU_OUT
  stop "$CONNS_GW"
  stop "$CONNS_HOME"
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
    why=" (${CONNS_SHORT[ours]:-stopped early})"
    # Steps that never asked for 10,000 (--quick) measured nothing about it.
    [[ " $CONN_STEPS " == *" max "* ]] || awk -v s="$CONN_STEPS" 'BEGIN { n = split(s, a, " "); for (i = 1; i <= n; i++) if (a[i] >= 10000) exit 0; exit 1 }' ||
      { verdict="not measured (steps: $CONN_STEPS)"; why=""; }
  fi
  goal "connections open on one listener" "10,000" "${CONNS_TOP[ours]:-0}$why" "$verdict"
}
