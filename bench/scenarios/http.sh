# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# Scenario "http" of bench/run.sh: bench/http_bench.sh (its own emulator; azrelay listen --http-echo vs
# hyco-https under wrk, then one request at a time); its report is included and its medians compared.

scenario_http() {
  local s=$WORK/http.summary gen
  run_script http http_bench.sh "HTTP requests" || return 0
  gen=$(summary_value "$s" generator)
  {
    echo "## HTTP requests: azrelay listen --http-echo vs hyco-https (bench/http_bench.sh)"
    echo
    [[ $gen == wrk ]] || printf '%s\n\n' "**wrk is missing: the Node load generator saturates near 2k requests/s, below both listeners, so requests/s cannot rank them** (scripts/install-deps.sh --all installs wrk)."
    include_report http
    echo
  } >>"$report"
  local ours_ms hyco_ms
  ours_ms=$(calc "$(summary_value "$s" cpu10k_ours) / 10" 4) # CPU s per 10k requests -> ms per request
  hyco_ms=$(calc "$(summary_value "$s" cpu10k_hyco) / 10" 4)
  compare http "requests/s under load ($gen)" "$(summary_value "$s" rps_ours)" "$(summary_value "$s" rps_hyco)" "hyco-https"
  compare http "listener CPU ms per request under load" "$ours_ms" "$hyco_ms" "hyco-https"
  if [[ -n $(summary_value "$s" serial_rps_ours) ]]; then
    compare http "requests/s one at a time" "$(summary_value "$s" serial_rps_ours)" "$(summary_value "$s" serial_rps_hyco)" "hyco-https"
    compare http "listener CPU ms per request one at a time" "$(calc "$(summary_value "$s" serial_cpu10k_ours) / 10" 4)" \
      "$(calc "$(summary_value "$s" serial_cpu10k_hyco) / 10" 4)" "hyco-https"
  fi
}
