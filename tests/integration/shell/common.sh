# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# Helpers shared by the shell-driven integration suites (sourced by their lib.sh, which defines
# log(), $T, CHILD_PIDS and SKIP_RC first): failing and skipping, children in their own process
# groups, free loopback ports, and waiting for ports and log lines.

fail() {
  log "FAIL: $*"
  exit 1
}

skip() {
  log "SKIP: $*"
  exit "$SKIP_RC"
}

# start_bg NAME cmd args...: cmd in its own process group; output in $T/NAME.out and $T/NAME.err.
start_bg() {
  local name=$1
  shift
  setsid "$@" >"$T/$name.out" 2>"$T/$name.err" </dev/null &
  LAST_PID=$!
  CHILD_PIDS+=("$LAST_PID")
}

port_listening() { [[ -n $(ss -Hltn "sport = :$1" 2>/dev/null) ]]; }

# A loopback TCP port nobody uses (listening or connected) at the moment; callers that race for
# it retry on another.
free_port() {
  local p
  for _ in $(seq 100); do
    p=$((20000 + RANDOM % 40000))
    [[ -z $(ss -Htan "sport = :$p" 2>/dev/null) ]] && { echo "$p"; return 0; }
  done
  return 1
}

# wait_port PORT PID SECONDS: true once PORT listens, false if PID died or time ran out.
wait_port() {
  local port=$1 pid=$2 deadline=$((SECONDS + $3))
  while ((SECONDS < deadline)); do
    port_listening "$port" && return 0
    kill -0 "$pid" 2>/dev/null || return 1
    sleep 0.05
  done
  return 1
}

count_lines() { # FILE ERE
  local n
  n=$(grep -cE -- "$2" "$1" 2>/dev/null) || true
  echo "${n:-0}"
}

# wait_lines FILE ERE N SECONDS [PID]: until FILE has at least N lines matching ERE.
wait_lines() {
  local file=$1 re=$2 n=$3 deadline=$((SECONDS + $4)) pid=${5:-}
  while ((SECONDS < deadline)); do
    (($(count_lines "$file" "$re") >= n)) && return 0
    if [[ -n $pid ]] && ! kill -0 "$pid" 2>/dev/null; then
      (($(count_lines "$file" "$re") >= n)) && return 0
      log "process $pid exited while waiting for '$re' in ${file#"$T"/}"
      return 1
    fi
    sleep 0.05
  done
  log "timed out waiting for $n line(s) matching '$re' in ${file#"$T"/} (have $(count_lines "$file" "$re"))"
  return 1
}
