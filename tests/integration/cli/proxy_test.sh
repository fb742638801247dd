#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `--proxy URL` and the *_proxy environment for listen, connect and request, through real proxies:
#   http   tinyproxy: --proxy http://..., https_proxy honoured, no_proxy and --proxy '' bypass it
#   socks  microsocks with a password that needs %-escapes: socks5h:// and socks5:// with
#          user:password@ for all three commands; a wrong password is exit 8; no password in any log
set -euo pipefail
CASE=${1:?usage: proxy_test.sh http|socks}
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
unset https_proxy HTTPS_PROXY http_proxy HTTP_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY AZRELAY_CONNECTION_STRING
export AZRELAY_LOG_FORMAT=plain

# launch_proxy NAME cmd... (@PORT@ replaced by a free port): PROXY_PORT once it listens.
launch_proxy() {
  local name=$1 port arg args
  shift
  for _ in 1 2 3; do
    port=$(free_port) || fail "no free port"
    [[ $name == tinyproxy ]] && tinyproxy_config "$port"
    args=()
    for arg in "$@"; do args+=("${arg//@PORT@/$port}"); done
    start_bg "$name" "${args[@]}"
    if wait_port "$port" "$LAST_PID" 15; then
      PROXY_PORT=$port
      log "$name on 127.0.0.1:$port"
      return 0
    fi
  done
  fail "$name did not start: $(tail -n 5 "$T/$name.err")"
}

tinyproxy_config() {
  cat >"$T/tinyproxy.conf" <<CONF
Port $1
Listen 127.0.0.1
Timeout 120
Allow 127.0.0.1
LogLevel Connect
LogFile "$T/tinyproxy.log"
PidFile "$T/tinyproxy.pid"
MaxClients 50
CONF
}

# The hosts a proxy sees for the relay: the namespace (localhost) and the gateway host of rendezvous
# addresses (127.0.0.1, docs/EMULATOR.md), as an extended regular expression.
RELAY_HOSTS='(localhost|127\.0\.0\.1)'

# through WHAT: the number of tunnels the proxy log shows so far.
tunnels() {
  case $1 in
  tinyproxy) count_lines "$T/tinyproxy.log" "CONNECT $RELAY_HOSTS:$EMU_PORT HTTP" ;;
  microsocks) count_lines "$T/microsocks.err" "connected to $RELAY_HOSTS:$EMU_PORT\$" ;;
  esac
}

# step WHAT NEW_TUNNELS DESCRIPTION cmd...: cmd succeeds and the proxy carried NEW_TUNNELS more.
step() {
  local what=$1 want=$2 desc=$3 before after rc=0
  shift 3
  before=$(tunnels "$what")
  "$@" >"$T/step.out" 2>"$T/step.err" || rc=$?
  ((rc == 0)) || fail "$desc: exit $rc: $(cat "$T/step.err")"
  for _ in $(seq 20); do
    after=$(tunnels "$what")
    ((after - before >= want)) && break
    sleep 0.1
  done
  ((after - before == want)) || fail "$desc: the proxy carried $((after - before)) connections, want $want"
  log "ok: $desc ($want through $what)"
}

echo_once() { # args...: one message through a sender; it must come back
  local got
  got=$(printf 'via proxy\n' | timeout 20 "$AZRELAY_BIN" connect -c "$CS" --cacert "$CERT" -q "$@") || return 1
  [[ $got == "via proxy" ]]
}
request_once() { timeout 20 "$AZRELAY_BIN" request -c "$CS" --cacert "$CERT" -d ping "$@" /x | grep -q ping; }
# with_env VAR=value... -- cmd...: cmd (a function too) with those variables exported.
with_env() {
  local vars=()
  while [[ $1 != -- ]]; do
    vars+=("$1")
    shift
  done
  shift
  (
    export "${vars[@]}"
    "$@"
  )
}

start_emulator
case $CASE in
http)
  need_cmd tinyproxy tinyproxy
  launch_proxy tinyproxy tinyproxy -d -c "$T/tinyproxy.conf"
  url=http://127.0.0.1:$PROXY_PORT
  start_bg listener "$AZRELAY_BIN" listen -c "$CS" --cacert "$CERT" --echo --http-echo --proxy "$url"
  wait_lines "$T/listener.err" '^listening$' 1 20 "$LAST_PID" || fail "listen --proxy did not come online"
  (($(tunnels tinyproxy) == 1)) || fail "the control channel did not go through the proxy"
  log "ok: listen --proxy $url"
  # connect: its own tunnel and the listener's rendezvous.
  step tinyproxy 2 "connect --proxy" echo_once --proxy "$url"
  step tinyproxy 2 "connect with https_proxy" with_env https_proxy="$url" -- echo_once
  step tinyproxy 1 "connect with https_proxy and no_proxy=localhost (only the listener's rendezvous)" \
    with_env https_proxy="$url" no_proxy=localhost -- echo_once
  step tinyproxy 1 "connect --proxy '' with a dead https_proxy" \
    with_env https_proxy=http://127.0.0.1:1 -- echo_once --proxy ''
  # request: small HTTP requests reach the listener on its control channel.
  step tinyproxy 1 "request --proxy" request_once --proxy "$url"
  step tinyproxy 1 "request with HTTPS_PROXY" with_env HTTPS_PROXY="$url" -- request_once
  step tinyproxy 0 "request with https_proxy and no_proxy" with_env https_proxy="$url" no_proxy=localhost -- request_once
  ;;
socks)
  need_cmd microsocks microsocks
  password='p@ss:w/rd'
  escaped='p%40ss%3Aw%2Frd'
  launch_proxy microsocks microsocks -i 127.0.0.1 -p @PORT@ -u mia -P "$password"
  url="socks5h://mia:$escaped@127.0.0.1:$PROXY_PORT"
  start_bg listener "$AZRELAY_BIN" listen -c "$CS" --cacert "$CERT" --echo --http-echo --proxy "$url" -v
  wait_lines "$T/listener.err" '^listening$' 1 20 "$LAST_PID" || fail "listen --proxy socks5h:// did not come online"
  log "ok: listen --proxy socks5h://mia:***@..."
  step microsocks 2 "connect --proxy socks5h://" echo_once --proxy "$url" -v
  step microsocks 2 "connect --proxy socks5:// (the proxy resolves the name too)" echo_once --proxy "${url/socks5h/socks5}"
  step microsocks 1 "request --proxy socks5h://" request_once --proxy "$url"
  expect wrong-password 8 "^azrelay connect: the proxy failed: .*SOCKS5.*\(check --proxy, the \*_proxy variables or the Proxy\*/Firewall\* settings\)$" -- \
    connect -c "$CS" --cacert "$CERT" --proxy "socks5h://mia:wrong@127.0.0.1:$PROXY_PORT"
  for f in "$T"/*.err "$T"/*.out; do
    grep -qF -e "$password" -e "$escaped" "$f" && fail "the proxy password appears in ${f#"$T"/}"
  done
  log "ok: the proxy password appears in no output"
  ;;
*) fail "unknown case $CASE" ;;
esac
log "PASS"
