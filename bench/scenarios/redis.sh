# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# Scenario "redis" of bench/run.sh: bench/redis_bridge.sh (its own emulator and redis-server):
# redis-benchmark through azrelay connect --local-port + listen --forward against redis directly.

scenario_redis() {
  local s=$WORK/redis.summary t
  if ! command -v redis-server >/dev/null || ! command -v redis-benchmark >/dev/null; then
    log "run.sh: redis-server or redis-benchmark is missing: NO REDIS SCENARIO (scripts/install-deps.sh --all)"
    printf '## TCP bridge (redis)\n\n**redis-server or redis-benchmark is missing: not measured** (`scripts/install-deps.sh --all`).\n\n' >>"$report"
    goal "redis through the bridge / direct, requests/s" "≥ 0.5" "n/a" "not measured"
    return 0
  fi
  run_script redis redis_bridge.sh "TCP bridge (redis)" || return 0
  {
    echo "## TCP bridge: redis-benchmark through connect --local-port + listen --forward (bench/redis_bridge.sh)"
    echo
    include_report redis
    echo
  } >>"$report"
  for t in set get; do
    compare redis "${t^^} requests/s, bridged vs direct" "$(summary_value "$s" ${t}_bridge)" "$(summary_value "$s" ${t}_direct)" "redis directly"
  done
  goal "redis SET through the bridge / direct, requests/s" "≥ 0.5" "$(calc "$(summary_value "$s" set_ratio)" 3)" \
    "$(at_least "$(summary_value "$s" set_ratio)" 0.5)"
  goal "redis GET through the bridge / direct, requests/s" "≥ 0.5" "$(calc "$(summary_value "$s" get_ratio)" 3)" \
    "$(at_least "$(summary_value "$s" get_ratio)" 0.5)"
}
