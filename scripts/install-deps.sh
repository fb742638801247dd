#!/usr/bin/env bash
# Installs every Debian 12 package azrelay needs to build, test and run its demo (idempotent).
set -euo pipefail

packages=(
  # build
  cmake make gcc pkg-config
  # libraries
  libuv1-dev libcurl4-openssl-dev libssl-dev libcjson-dev libhttp-parser-dev
  # tests, fuzzing, real peers
  libcmocka-dev clang libfuzzer-14-dev valgrind curl openssl ca-certificates nodejs npm
  # proxy tests (tests/integration/proxy): each test runs its own instance on a free loopback port;
  # openssh-server only for `sshd -i` behind ssh -D (SOCKS4A), iproute2 for ss, stunnel4 for TLS in
  # front of tinyproxy (an HTTPS proxy, ProxySSL=1)
  tinyproxy squid dante-server microsocks openssh-server openssh-client iproute2 stunnel4
  # forwarding tests and bench (tests/integration/forward, bench/redis_bridge.sh): a real TCP service
  redis-server redis-tools
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# An existing Node.js (e.g. from another source) is fine; do not replace it.
if command -v node >/dev/null && command -v npm >/dev/null; then
  filtered=()
  for p in "${missing[@]}"; do [[ $p == nodejs || $p == npm ]] || filtered+=("$p"); done
  missing=("${filtered[@]}")
fi
if ((${#missing[@]})); then
  sudo=""
  [[ $(id -u) -eq 0 ]] || sudo="sudo"
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
