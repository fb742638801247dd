#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The installed package, used as an outside project uses it (CI runs this once, on the release
# build, from scripts/test.sh):
#   1. `cmake --install BUILD --prefix P`: every file in place, azrelay.pc relocatable (the tree is
#      moved after installing), the systemd unit pointing at P/bin/azrelay
#   2. the examples built against P with pkg-config (shared; --static with libazrelay.a) and with
#      find_package (azrelay::azrelay and azrelay::azrelay_static), -Wall -Wextra -Werror, also
#      with clang (whose warn_unused_result makes AZR_NODISCARD bite), and each run against the
#      installed emulator: it comes online and echoes
#   3. `cpack -G DEB`: the package's files and dependencies; `apt-get install ./azrelay_*.deb`,
#      then the same program built against /usr and run, the unit verified, the package removed
#      (needs root or sudo; says SKIP loudly otherwise)
# Usage: install_test.sh BUILD_DIR
set -euo pipefail
BUILD=$(cd "${1:?usage: install_test.sh BUILD_DIR}" && pwd)
SRC=$(cd "$(dirname "$0")/../.." && pwd)
CASE=install
AZRELAY_BIN=/nonexistent # set below, once installed
# shellcheck source=../integration/cli/lib.sh
source "$SRC/tests/integration/cli/lib.sh"
export AZRELAY_LOG_FORMAT=plain
unset AZRELAY_CONNECTION_STRING

# loads PROGRAM ERE: one of the libraries ldd lists for PROGRAM matches ERE.
loads() {
  ldd "$1" >"$T/ldd.out" || fail "ldd $1 failed"
  grep -qE -- "$2" "$T/ldd.out"
}

# ---- 1. install into a prefix, then move it ----
cmake --install "$BUILD" --prefix "$T/first" >"$T/install.log" || fail "cmake --install failed: $(tail -n 5 "$T/install.log")"
mv "$T/first" "$T/prefix"
P=$T/prefix
AZRELAY_BIN=$P/bin/azrelay
for f in bin/azrelay lib/libazrelay.so.1 lib/libazrelay.so lib/libazrelay.a include/azrelay.h include/azrelay/version.h \
  lib/pkgconfig/azrelay.pc lib/cmake/azrelay/azrelay-config.cmake lib/cmake/azrelay/azrelay-config-version.cmake \
  share/man/man1/azrelay.1.gz share/man/man3/libazrelay.3.gz share/doc/azrelay/LICENSE share/doc/azrelay/README.md \
  share/doc/azrelay/examples/minimal_listener.c share/doc/azrelay/examples/CMakeLists.txt \
  lib/systemd/system/azrelay-listen@.service; do
  [[ -e $P/$f ]] || fail "not installed: $f"
done
grep -q "^ExecStart=$T/first/bin/azrelay listen " "$P/lib/systemd/system/azrelay-listen@.service" ||
  fail "the unit does not run the installed azrelay: $(grep ExecStart "$P/lib/systemd/system/azrelay-listen@.service")"
zcat "$P/share/man/man1/azrelay.1.gz" >"$T/azrelay.1"
grep -q '^\.SH EXIT STATUS' "$T/azrelay.1" || fail "azrelay.1.gz is not the man page"
"$AZRELAY_BIN" --version >"$T/version" || fail "the installed azrelay does not run"
grep -qE '^azrelay [0-9]+\.[0-9]+\.[0-9]+$' "$T/version" || fail "azrelay --version: $(cat "$T/version")"
log "ok: cmake --install: every file in place"

export PKG_CONFIG_PATH=$P/lib/pkgconfig
prefix=$(pkg-config --variable=prefix azrelay)
[[ $(realpath "$prefix") == "$(realpath "$P")" ]] || fail "azrelay.pc's prefix is $prefix after the move, not $P"
[[ $(pkg-config --modversion azrelay) == "$("$AZRELAY_BIN" --version | sed -n '1s/^azrelay //p')" ]] ||
  fail "azrelay.pc's version differs from the CLI's"
log "ok: azrelay.pc follows the tree (prefix $prefix)"

# ---- 2. outside programs against the prefix ----
EX=$P/share/doc/azrelay/examples
CFLAGS_STRICT=(-Wall -Wextra -Werror -std=c11)
cc "${CFLAGS_STRICT[@]}" "$EX/minimal_listener.c" $(pkg-config --cflags --libs azrelay) -o "$T/pc-shared" ||
  fail "pkg-config (shared) build failed"
cc "${CFLAGS_STRICT[@]}" "$EX/minimal_listener.c" $(pkg-config --cflags azrelay) \
  $(pkg-config --static --libs azrelay | sed 's/-lazrelay/-l:libazrelay.a/') -o "$T/pc-static" ||
  fail "pkg-config --static build failed"
loads "$T/pc-static" libazrelay && fail "the --static build still loads libazrelay.so"
if command -v clang >/dev/null; then
  clang "${CFLAGS_STRICT[@]}" "$EX/minimal_listener.c" $(pkg-config --cflags --libs azrelay) -o "$T/pc-clang" ||
    fail "clang -Werror build failed"
else
  log "SKIP: clang is not installed; the clang build (AZR_NODISCARD checks) did not run"
fi
log "ok: pkg-config builds (shared, static, clang)"
for kind in shared static; do
  static=OFF
  [[ $kind == static ]] && static=ON
  cmake -S "$EX" -B "$T/cmake-$kind" -DCMAKE_PREFIX_PATH="$P" -DAZR_EXAMPLES_STATIC=$static \
    -DCMAKE_C_FLAGS="-Wall -Wextra -Werror" >"$T/cmake-$kind.log" 2>&1 || fail "find_package ($kind) failed: $(tail -n 20 "$T/cmake-$kind.log")"
  cmake --build "$T/cmake-$kind" >>"$T/cmake-$kind.log" 2>&1 || fail "the examples did not build ($kind): $(tail -n 20 "$T/cmake-$kind.log")"
done
loads "$T/cmake-static/minimal_listener" libazrelay && fail "azrelay::azrelay_static still loads libazrelay.so"
loads "$T/cmake-shared/minimal_listener" "$P/lib/libazrelay\.so" || fail "azrelay::azrelay does not use $P/lib"
log "ok: find_package(azrelay): the examples build with azrelay::azrelay and azrelay::azrelay_static"

# echoes NAME PROGRAM: the program comes online against the emulator and echoes a message.
echoes() {
  local name=$1 prog=$2 out
  LD_LIBRARY_PATH=$P/lib AZRELAY_CONNECTION_STRING=$CS AZRELAY_CACERT=$CERT start_bg "$name" "$prog"
  local pid=$LAST_PID
  wait_lines "$T/$name.err" '^listening$' 1 20 "$pid" || fail "$name did not come online"
  out=$(printf '%s\n' "$name" | timeout 20 "$AZRELAY_BIN" connect -c "$CS" --cacert "$CERT" -q) || fail "$name: no echo"
  [[ $out == "$name" ]] || fail "$name echoed '$out'"
  kill -TERM "$pid"
  wait "$pid" 2>/dev/null || true
  log "ok: $name comes online and echoes"
}
start_emulator
echoes pc-shared "$T/pc-shared"
echoes pc-static "$T/pc-static"
[[ -x $T/pc-clang ]] && echoes pc-clang "$T/pc-clang"
echoes cmake-shared "$T/cmake-shared/minimal_listener"
echoes cmake-static "$T/cmake-static/minimal_listener"

# ---- 3. the Debian package ----
SUDO=()
if [[ $(id -u) != 0 ]]; then
  if sudo -n true 2>/dev/null; then SUDO=(sudo -n); else
    log "SKIP: the Debian package test needs root or password-less sudo"
    log "PASS (without the Debian package)"
    exit 0
  fi
fi
if dpkg-query -W -f='${Status}' azrelay 2>/dev/null | grep -q 'install ok installed'; then
  fail "a package named azrelay is installed already; remove it before this test"
fi
(cd "$BUILD" && cpack -G DEB -B "$T/deb") >"$T/cpack.log" 2>&1 || fail "cpack -G DEB failed: $(tail -n 20 "$T/cpack.log")"
deb=$(ls "$T"/deb/azrelay_*.deb)
depends=$(dpkg-deb -f "$deb" Depends)
for dep in libuv1 libcurl4 libssl3 libcjson1 libhttp-parser2.9 libc6 libuv1-dev libcurl4-openssl-dev libssl-dev libcjson-dev libhttp-parser-dev; do
  grep -qE "(^|, )$dep( |,|\$)" <<<"$depends" || fail "the package does not depend on $dep: $depends"
done
dpkg-deb -c "$deb" >"$T/deb.list"
for f in ./usr/bin/azrelay ./usr/lib/libazrelay.so.1.0.0 ./usr/lib/libazrelay.a ./usr/include/azrelay.h \
  ./usr/lib/pkgconfig/azrelay.pc ./usr/lib/cmake/azrelay/azrelay-config.cmake ./usr/share/man/man1/azrelay.1.gz \
  ./usr/share/man/man3/libazrelay.3.gz ./usr/share/doc/azrelay/LICENSE ./usr/lib/systemd/system/azrelay-listen@.service; do
  grep -qF " $f" "$T/deb.list" || fail "the package lacks $f"
done
log "ok: $(basename "$deb"): files and Depends: $depends"
remove_deb() { "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get remove --purge -y -q azrelay >"$T/remove.log" 2>&1; }
trap 'rc=$?; remove_deb || true; (exit $rc); cleanup' EXIT
(cd "$T/deb" && "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends ./"$(basename "$deb")") \
  >"$T/apt.log" 2>&1 || fail "apt-get install failed: $(tail -n 20 "$T/apt.log")"
[[ $(command -v azrelay) == /usr/bin/azrelay ]] || fail "azrelay is not /usr/bin/azrelay after installing"
unset PKG_CONFIG_PATH
cc "${CFLAGS_STRICT[@]}" /usr/share/doc/azrelay/examples/minimal_listener.c $(pkg-config --cflags --libs azrelay) -o "$T/system" ||
  fail "building against the installed package failed"
loads "$T/system" '=> (/usr)?/lib/libazrelay\.so\.1 ' || fail "the program does not load /usr/lib/libazrelay.so.1: $(ldd "$T/system")"
AZRELAY_BIN=/usr/bin/azrelay
echoes system "$T/system"
man_check=--man=no
if command -v man >/dev/null; then
  man -w azrelay >/dev/null || fail "man does not find azrelay(1)"
  man_check=--man=yes
fi
if command -v systemd-analyze >/dev/null; then
  systemd-analyze verify "$man_check" /usr/lib/systemd/system/azrelay-listen@.service >"$T/verify.log" 2>&1 &&
    [[ ! -s $T/verify.log ]] || fail "systemd-analyze verify of the installed unit: $(cat "$T/verify.log")"
  log "ok: the installed unit verifies ($man_check)"
else
  log "SKIP: systemd-analyze is not installed; the installed unit was not verified"
fi
remove_deb || fail "apt-get remove failed: $(tail -n 5 "$T/remove.log")"
[[ ! -e /usr/bin/azrelay && ! -e /usr/lib/libazrelay.so.1 ]] || fail "files left after removing the package"
log "ok: apt-get install ./$(basename "$deb"), built against /usr, ran, removed"
log "PASS"
