# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# Helpers of bench/run.sh and its scenarios (bench/scenarios/*.sh), sourced after lib.sh. They use
# run.sh's globals: WORK, AZRELAY, RELAY_LOAD, SINK, CA, EMU, quick, report_file, pids.

wait_for() { # file, extended regex, seconds
  local i
  for ((i = 0; i < $3 * 10; i++)); do
    grep -Eq "$2" "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  log "timed out waiting for '$2' in $1:"
  tail -20 "$1" >&2 || true
  return 1
}
json() { # the value of a numeric or string member of a one-line JSON object
  sed -n "s/.*\"$2\":\"\{0,1\}\([^,\"}]*\).*/\1/p" <<<"$1" | head -1
}
calc() { awk "BEGIN { printf \"%.${2:-3}f\", $1 }"; }
stop() { # pid: SIGTERM and wait
  kill "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}
last_json() { grep '^{' "$1" | tail -1; }
# The connection string of hybrid connection $1 on the emulator that wrote $EMU_OUT (default: the
# shared emulator of run.sh).
connstr() { sed -n "s/^connection string $1: //p" "${EMU_OUT:-$WORK/emulator.out}"; }
# A value from a "name value" summary file of http_bench.sh or redis_bridge.sh.
summary_value() { awk -v k="$2" '$1 == k { print $2 }' "$1"; }

listener_name() {
  case $1 in
  ours) echo "azrelay listen --echo" ;;
  sink) echo "sink_listener" ;;
  node) echo "hyco-ws 1.0.5" ;;
  esac
}

# start_listener KIND HC LOGNAME [ours' extra options...]: KIND is ours, sink or node; sets LISTENER.
# Our CLI logs errors only (--log-level 0), as the others: at its default level it writes three
# lines per connection, which would cost it CPU and system calls the others do not spend. It then
# does not say "listening" either, so a sender that echoes once tells when it is online.
start_listener() {
  local kind=$1 hc=$2 cs log=$3 i
  cs=$(connstr "$hc")
  shift 3
  case $kind in
  ours) "$AZRELAY" listen -c "$cs" --cacert "$CA" --echo --log-level 0 "$@" >"$WORK/$log.out" 2>"$WORK/$log.err" & ;;
  sink) "$SINK" -c "$cs" --cacert "$CA" >"$WORK/$log.out" 2>"$WORK/$log.err" & ;;
  node) NODE_EXTRA_CA_CERTS=$CA node "$ROOT/bench/node/hyco_echo_listener.js" "$cs" >"$WORK/$log.out" 2>"$WORK/$log.err" & ;;
  esac
  LISTENER=$!
  pids+=("$LISTENER")
  if [[ $kind != ours ]]; then
    wait_for "$WORK/$log.err" '^listening' 20
    return
  fi
  for ((i = 0; i < 100; i++)); do
    "$RELAY_LOAD" -c "$cs" --cacert "$CA" --mode churn --connections 1 --messages 1 --message-size 16 \
      >/dev/null 2>"$WORK/$log.probe" && return 0
    kill -0 "$LISTENER" 2>/dev/null || break
    sleep 0.2
  done
  log "our listener on $hc did not come online:"
  cat "$WORK/$log.err" "$WORK/$log.probe" >&2
  return 1
}

load() { # hybrid connection, log name, relay_load options...; prints relay_load's JSON line
  local hc=$1 name=$2
  shift 2
  if ! "$RELAY_LOAD" -c "$(connstr "$hc")" --cacert "$CA" "$@" >"$WORK/$name.json" 2>"$WORK/$name.err"; then
    log "relay_load ($name) reported errors:"
    cat "$WORK/$name.err" >&2
    exit 1
  fi
  last_json "$WORK/$name.json"
}

# run_script NAME SCRIPT TITLE: runs bench/SCRIPT with run.sh's --quick, its report in $WORK/NAME.md
# and its medians in $WORK/NAME.summary; on failure says so in the report (under TITLE) and returns 1.
run_script() {
  log "== $1: bench/$2 ${SCRIPT_OPTS[*]}"
  "$ROOT/bench/$2" "${SCRIPT_OPTS[@]}" --report "$WORK/$1.md" --summary "$WORK/$1.summary" \
    >"$WORK/$1.out" 2>"$WORK/$1.err" && return 0
  log "$2 failed:"
  tail -20 "$WORK/$1.err" >&2
  printf '## %s\n\n**bench/%s failed** (its log: %s.err, kept with --keep).\n\n' "$3" "$2" "$1" >>"$report"
  return 1
}
# The included report without its own title.
include_report() { sed '1{/^#/d}' "$WORK/$1.md" | sed '/./,$!d'; }

# ---- system calls of a process ---------------------------------------------------------------------
# /proc/PID/io's syscr/syscw count only read/write-family calls (vfs_read, vfs_write): a process that
# uses recvfrom/sendto (ours) shows almost none there. perf counts every system call of every thread
# at a tracepoint, cheaply enough to run during a timed run; strace -c slows the process, so with it
# the count comes from a separate run.
# The calls named in the breakdown (perf counts each at its own tracepoint; strace names them all).
SC_CALLS_WATCHED="sendto recvfrom sendmsg recvmsg read write readv writev epoll_wait epoll_pwait epoll_ctl futex getpid mprotect madvise"
syscall_counter_init() {
  local c
  SC_EVENTS=raw_syscalls:sys_enter
  for c in $SC_CALLS_WATCHED; do SC_EVENTS+=",syscalls:sys_enter_$c"; done
  if command -v perf >/dev/null && perf stat -x, -e "$SC_EVENTS" -o /dev/null -- true 2>/dev/null; then
    SC_TOOL=perf
  elif command -v perf >/dev/null && perf stat -x, -e raw_syscalls:sys_enter -o /dev/null -- true 2>/dev/null; then
    SC_TOOL=perf # no per-call tracepoints: totals only
    SC_EVENTS=raw_syscalls:sys_enter
  elif command -v strace >/dev/null; then
    SC_TOOL=strace
  else
    SC_TOOL=""
    log "run.sh: neither perf nor strace works here: no system call counts"
  fi
}
sc_begin() { # PID
  SC_PID=""
  case $SC_TOOL in
  perf) perf stat -x, -e "$SC_EVENTS" -p "$1" -o "$WORK/syscalls.txt" 2>/dev/null & ;;
  strace) strace -c -f -p "$1" -o "$WORK/syscalls.txt" 2>/dev/null & ;;
  *) return 0 ;;
  esac
  SC_PID=$!
  sleep 0.3 # attached
}
# sc_end: sets SC_COUNT to the calls since sc_begin ("" when not counted) and SC_CALLS to "name
# count" lines per call. Not in $(...): the counter must be waited for by the shell that started it.
sc_end() {
  SC_COUNT=""
  SC_CALLS=""
  [[ -n $SC_PID ]] || return 0
  kill -INT "$SC_PID" 2>/dev/null || true
  wait "$SC_PID" 2>/dev/null || true
  case $SC_TOOL in
  perf)
    SC_COUNT=$(awk -F, '$3 == "raw_syscalls:sys_enter" && $1 ~ /^[0-9]+$/ { print $1 }' "$WORK/syscalls.txt")
    SC_CALLS=$(awk -F, '$3 ~ /^syscalls:sys_enter_/ && $1 ~ /^[0-9]+$/ { sub(/^syscalls:sys_enter_/, "", $3); print $3, $1 }' "$WORK/syscalls.txt")
    ;;
  strace)
    SC_COUNT=$(awk '$NF == "total" { print $4 }' "$WORK/syscalls.txt")
    SC_CALLS=$(awk '$1 ~ /^[0-9.]+$/ && $4 ~ /^[0-9]+$/ && $NF != "total" { print $NF, $4 }' "$WORK/syscalls.txt")
    ;;
  esac
}
# sc_top N MESSAGES: the N most frequent calls of SC_CALLS per message ("sendto 7.15, recvfrom 3.33").
sc_top() {
  [[ -n $SC_CALLS ]] || { echo n/a; return; }
  sort -k2,2nr <<<"$SC_CALLS" | awk -v n="$1" -v m="$2" '$2 > 0 && NR <= n { printf "%s%s %.2f", sep, $1, $2 / m; sep = ", " } END { print "" }'
}

# ---- the report --------------------------------------------------------------------------------------
report_header() {
  local cpu_model commit
  report=$WORK/report.md
  comparisons=()
  goals=()
  cpu_model=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
  commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
  git diff --quiet HEAD 2>/dev/null || commit="$commit (with uncommitted changes)"
  {
    echo "# azrelay benchmarks, $(date -u '+%Y-%m-%d %H:%M UTC')$( ((quick)) && echo ' (--quick)')"
    echo
    echo "| machine | |"
    echo "|---|---|"
    echo "| CPUs (nproc) | $(nproc) |"
    echo "| CPU model | ${cpu_model:-unknown} |"
    echo "| kernel | $(uname -r) |"
    echo "| OpenSSL | $(openssl version | cut -d' ' -f1-2) |"
    echo "| Node.js | $(node --version) |"
    echo "| commit | $commit |"
    echo "| scenarios | ${only//,/, } |"
    echo "| system calls counted with | ${SC_TOOL:-nothing (perf and strace missing)} |"
    echo "| descriptors per process (ulimit -n) | $(ulimit -n) |"
    echo "| load average at start | $(cut -d' ' -f1-3 /proc/loadavg) |"
    echo
    echo "Everything runs on loopback on the same cores: compare ours and theirs within this report (the"
    echo "ratios), not absolute figures across machines or runs."
    echo
  } >"$report"
}

# ratio A B: A / B with three significant digits, or "n/a".
ratio() {
  awk -v a="$1" -v b="$2" 'BEGIN { if (a !~ /^[0-9.]+$/ || b !~ /^[0-9.]+$/ || b + 0 == 0) print "n/a"; else printf "%.3g\n", a / b }'
}

# compare SCENARIO FIGURE OURS THEIRS THEIR_NAME: a row of the comparisons table.
compare() {
  comparisons+=("| $1 | $2 | $3 | $4 | $5 | $(ratio "$3" "$4") |")
}

# goal FIGURE GOAL MEASURED VERDICT: a row of the goals table.
goal() { goals+=("| $1 | $2 | $3 | $4 |"); }
# at_most VALUE LIMIT / at_least VALUE LIMIT: "**met**", "not met" or "not measured".
at_most() { awk -v v="$1" -v l="$2" 'BEGIN { print (v !~ /^[0-9.]+$/) ? "not measured" : (v + 0 <= l + 0) ? "**met**" : "not met" }'; }
at_least() { awk -v v="$1" -v l="$2" 'BEGIN { print (v !~ /^[0-9.]+$/) ? "not measured" : (v + 0 >= l + 0) ? "**met**" : "not met" }'; }

report_comparisons() {
  ((${#comparisons[@]})) || return 0
  {
    echo "## Every comparison: ours, theirs, ratio"
    echo
    echo "| scenario | figure | ours | theirs | theirs are | ours / theirs |"
    echo "|---|---|---|---|---|---|"
    printf '%s\n' "${comparisons[@]}"
    echo
  } >>"$report"
}

report_goals() {
  ((${#goals[@]})) || return 0
  {
    echo "## Goals (issue 16; the bridge's from the forwarding issue), from this run"
    echo
    echo "| figure | goal | measured | verdict |"
    echo "|---|---|---|---|"
    printf '%s\n' "${goals[@]}"
    echo
  } >>"$report"
}

# ---- plots ---------------------------------------------------------------------------------------
# PNGs beside the report file (NAME.md -> NAME-echo-throughput.png ...), else in the work directory.
plot_all() {
  local dir prefix args=() p
  [[ -f $WORK/echo.dat ]] && args+=(-e "echo_dat='$WORK/echo.dat'")
  [[ -f $WORK/conns-ours.dat && -f $WORK/conns-node.dat ]] &&
    args+=(-e "conns_ours='$WORK/conns-ours.dat'" -e "conns_node='$WORK/conns-node.dat'")
  ((${#args[@]})) || return 0
  if ! command -v gnuplot >/dev/null; then
    log "run.sh: gnuplot is missing: NO PLOTS (scripts/install-deps.sh --all installs gnuplot-nox)"
    printf '## Plots\n\n**gnuplot is not installed: no plots** (`scripts/install-deps.sh --all` installs gnuplot-nox); the tables above hold the same figures.\n\n' >>"$report"
    return 0
  fi
  if [[ -n $report_file ]]; then
    dir=$(dirname "$report_file")
    prefix=$(basename "${report_file%.md}")
  else
    dir=$WORK
    prefix=report
  fi
  if ! gnuplot -e "out='$dir/$prefix'" "${args[@]}" "$ROOT/bench/plots.gp" 2>"$WORK/gnuplot.err"; then
    log "run.sh: gnuplot failed:"
    cat "$WORK/gnuplot.err" >&2
    return 0
  fi
  {
    echo "## Plots"
    echo
    for p in echo-throughput echo-cpu-per-gb rss-by-connections; do
      [[ -f $dir/$prefix-$p.png ]] && echo "![$p]($prefix-$p.png)"
    done
    echo
    [[ -n $report_file ]] || echo "(in $dir: keep them with --keep, or use --report)"
    echo
  } >>"$report"
}
