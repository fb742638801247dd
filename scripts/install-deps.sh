#!/usr/bin/env bash
# Installs the Debian 12 packages azrelay needs (idempotent):
#   install-deps.sh --build   to build azrelay and run its demo
#   install-deps.sh [--all]   also everything the test suite runs (real peers, proxies, fuzzing,
#                             valgrind, the man page, systemd unit and package checks)
set -euo pipefail

mode=${1:---all}
case $mode in
--build | --all) ;;
*)
  echo "usage: $0 [--build|--all]" >&2
  exit 2
  ;;
esac

packages=(
  # build
  cmake make gcc pkg-config
  # libraries
  libuv1-dev libcurl4-openssl-dev libssl-dev libcjson-dev libhttp-parser-dev ca-certificates
)
if [[ $mode == --all ]]; then
  packages+=(
    # tests, fuzzing, real peers
    libcmocka-dev clang libfuzzer-14-dev valgrind curl openssl nodejs npm
    # proxy tests (tests/integration/proxy, tests/integration/cli): each test runs its own instance on
    # a free loopback port; openssh-server only for `sshd -i` behind ssh -D (SOCKS4A), iproute2 for
    # ss, stunnel4 for TLS in front of tinyproxy (an HTTPS proxy, ProxySSL=1)
    tinyproxy squid dante-server microsocks openssh-server openssh-client iproute2 stunnel4
    # forwarding tests and bench (tests/integration/forward, bench/redis_bridge.sh): a real TCP service
    redis-server redis-tools
    # bench/run.sh: wrk drives the HTTP scenario, gnuplot draws the plots in bench/results/
    wrk gnuplot-nox
    # CLI and package tests: groff for the man pages, systemd-analyze for the unit, dpkg-dev and
    # file for cpack's dependency scan, bsdutils for script(1) (a terminal for the progress meter)
    groff-base systemd dpkg-dev file bsdutils
    # the API manual and its zero-warning check (docs target, test_api_docs)
    doxygen
    # the ABI freeze (tests/unit/layering/check_abi.sh): abidw and abidiff
    abigail-tools
  )
fi

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
