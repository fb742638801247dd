#!/usr/bin/env bash
# The main demo, all on this machine: the relay emulator, an echo listener and a sender exchanging
# messages through it. Installs what building needs (install-deps.sh --build) and builds first;
# leaves the command in build/release/azrelay.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/install-deps.sh --build
echo "== building build/release/azrelay"
# Everything `cmake --install` needs (library, CLI, man pages, examples), no tests or benchmarks.
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=RelWithDebInfo -DAZR_BUILD_TESTS=OFF -DAZR_BUILD_BENCH=OFF \
  -DAZR_BUILD_EXAMPLES=ON -DAZR_SANITIZE=OFF >/dev/null
cmake --build build/release -j"$(nproc 2>/dev/null || echo 2)" >/dev/null
azrelay=$PWD/build/release/azrelay

work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

wait_for() { # file, text, seconds
  for _ in $(seq $((${3} * 10))); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
  echo "timed out waiting for '$2' in $1" >&2
  cat "$1" >&2
  return 1
}

echo "== starting the relay emulator (TLS on a free loopback port)"
"$azrelay" emulator --port 0 --hc demo --cert-out "$work/emulator.pem" >"$work/emulator.out" 2>"$work/emulator.err" &
pids+=($!)
wait_for "$work/emulator.out" '^ready' 10
connstr=$(sed -n 's/^connection string demo: //p' "$work/emulator.out")
grep '^endpoint' "$work/emulator.out"
echo "   connection string: ${connstr/SharedAccessKey=*;/SharedAccessKey=***;}"

echo "== starting an echo listener (libazrelay) on hybrid connection 'demo'"
"$azrelay" listen -c "$connstr" --cacert "$work/emulator.pem" --echo >"$work/listener.out" 2>"$work/listener.err" &
pids+=($!)
wait_for "$work/listener.err" 'listening$' 10
echo "   listener is online"

echo "== a sender connects and sends three messages; the listener echoes them back"
printf 'hello through the relay\nthe listener echoes every message\ngoodbye\n' |
  "$azrelay" connect -c "$connstr" --cacert "$work/emulator.pem" --quiet | sed 's/^/   echoed: /'

echo "== 1 MiB of random bytes as binary messages, checked with SHA-256"
head -c 1048576 /dev/urandom >"$work/blob"
"$azrelay" connect -c "$connstr" --cacert "$work/emulator.pem" --quiet --binary --set MaxFrameSize=65536 \
  <"$work/blob" >"$work/blob.echo"
sent=$(sha256sum <"$work/blob" | cut -c1-16)
got=$(sha256sum <"$work/blob.echo" | cut -c1-16)
echo "   sent $sent... received $got..."
[[ $sent == "$got" ]] || { echo "   MISMATCH" >&2; exit 1; }

echo "== what the listener saw"
sed 's/^/   /' "$work/listener.err"
echo "== demo finished: OK"
echo
echo "The command is $azrelay (try: $azrelay --help)."
echo "To install it with the library, headers, man pages and the systemd unit (in /usr/local):"
echo "   sudo cmake --install build/release"
echo "or as a Debian package: (cd build/release && cpack -G DEB) && sudo apt-get install ./build/release/azrelay_*.deb"
