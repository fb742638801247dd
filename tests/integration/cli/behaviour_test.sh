#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The azrelay CLI as a user meets it: every mistake ends the command with one line on stderr and
# the documented exit code (docs/man/azrelay.1 "EXIT STATUS"). One case per run:
#   usage      options, values, connection strings and files: exit 2 and one "azrelay CMD: ..."
#              line; --help, --version on every subcommand; the key is never echoed
#   refusals   the relay says no: wrong key 3, no such hybrid connection 4, no listener 5,
#              untrusted certificate 7 (with the --cacert hint), nothing listening 8; listen stops
#              at once (fail-fast) but retries a refused TCP connection and, with --retry, mistakes
#   closes     an open connection that ends badly: 1011 and 1009 give 9, a listener that refuses
#              gives 6, --max-time gives 10, a clean echo 0
#   logging    --log-format text/json/plain and auto (journal), -q and -v, no secret in any log
#   progress   connect --progress, and the meter on a terminal (script(1) gives it a pty)
#   emulator   the emulator's key from --key-file or AZRELAY_EMULATOR_KEY (not in ps), the
#              hint without --hc
#   gateway    a home and a gateway over TLS with one certificate (docs/EMULATOR.md "Gateways"):
#              a sender at the gateway reaches the listener at the home; the secret is in no log
set -euo pipefail
CASE=${1:?usage: behaviour_test.sh CASE}
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
unset AZRELAY_CONNECTION_STRING AZRELAY_EMULATOR_KEY https_proxy HTTPS_PROXY all_proxy ALL_PROXY
export AZRELAY_LOG_FORMAT=plain
COMMANDS=(emulator listen connect request token)

# A well-formed connection string for a namespace nobody serves (usage checks only).
FAKE_KEY=fakeKey0123456789Secret
FAKE_CS="Endpoint=sb://localhost:1/;SharedAccessKeyName=Rule;SharedAccessKey=$FAKE_KEY;EntityPath=hc1"

# no_secret WORD: WORD appears in none of the files the case wrote (but the emulator's stdout,
# whose connection strings are its purpose).
no_secret() {
  local files
  files=$(grep -lF -- "$1" "$T"/*.out "$T"/*.err 2>/dev/null | grep -v '/emulator\.out$' || true)
  [[ -z $files ]] || fail "the secret appears in $(tr '\n' ' ' <<<"$files")"
  log "ok: the secret appears in no output"
}

# key_of CONNSTR: its SharedAccessKey.
key_of() { sed -n 's/.*SharedAccessKey=\([^;]*\).*/\1/p' <<<"$1"; }

# stop_bg PID: SIGTERM, then wait for it.
stop_bg() { kill -TERM "$1" 2>/dev/null && wait "$1" 2>/dev/null || true; }

case_usage() {
  local cmd
  for cmd in "${COMMANDS[@]}"; do
    run_cli "version-$cmd" -- "$cmd" --version
    ((RC == 0)) && head -n 1 "$T/version-$cmd.out" | grep -qE '^azrelay [0-9]+\.[0-9]+\.[0-9]+$' ||
      fail "$cmd --version: exit $RC, $(head -n 1 "$T/version-$cmd.out")"
    run_cli "help-$cmd" -- "$cmd" --help
    local lines
    lines=$(wc -l <"$T/help-$cmd.out")
    ((RC == 0 && lines > 3 && lines <= 40)) && [[ ! -s $T/help-$cmd.err ]] ||
      fail "$cmd --help: exit $RC, $lines lines on stdout, stderr '$(cat "$T/help-$cmd.err")'"
    grep -q -- '--version' "$T/help-$cmd.out" || fail "$cmd --help does not mention --version"
    expect "bogus-$cmd" 2 "^azrelay $cmd: unknown option '--bogus' \(see azrelay $cmd --help\)$" -- "$cmd" --bogus
    expect "loglevel-$cmd" 2 "^azrelay $cmd: --log-level takes 0-3 or error, info, verbose, debug \(got 'abc'\)$" -- \
      "$cmd" --log-level abc
    expect "logformat-$cmd" 2 "^azrelay $cmd: --log-format takes auto, text, plain or json" -- "$cmd" --log-format xml
  done
  log "ok: --version, --help, unknown options and log options on every subcommand"
  run_cli noargs --
  ((RC == 2)) && grep -q '^usage: azrelay <command>' "$T/noargs.err" || fail "azrelay without a command: exit $RC"
  expect nocmd 2 "^azrelay: unknown command 'bogus'" -- bogus
  expect novalue 2 "^azrelay listen: option '--cacert' needs a value$" -- listen --echo --cacert
  expect noshortvalue 2 "^azrelay listen: option '-c' needs a value$" -- listen --echo -c
  expect extra 2 "^azrelay connect: unexpected argument 'extra'$" -- connect -c "$FAKE_CS" extra

  for cmd in listen connect request token; do
    local args=("$cmd")
    [[ $cmd == listen ]] && args+=(--echo)
    [[ $cmd == request ]] && args+=(/)
    expect "nocs-$cmd" 2 "^azrelay $cmd: no connection string: give -c STRING or --connection-string-file FILE, or set AZRELAY_CONNECTION_STRING" -- "${args[@]}"
    expect "badcs-$cmd" 2 "^azrelay $cmd: bad connection string \(from -c\): part [0-9]+ is not Name=Value; expected Endpoint=sb://" -- \
      "${args[@]}" -c "Endpoint=sb://x/;SharedAccessKey=$FAKE_KEY;junk"
    grep -q 'connection string: connection string' "$T/badcs-$cmd.err" && fail "doubled prefix"
    expect "envcs-$cmd" 2 "\(from AZRELAY_CONNECTION_STRING\): missing Endpoint" AZRELAY_CONNECTION_STRING="SharedAccessKeyName=a;SharedAccessKey=$FAKE_KEY" -- "${args[@]}"
  done
  for cmd in listen connect request; do
    local args=("$cmd")
    [[ $cmd == listen ]] && args+=(--echo)
    [[ $cmd == request ]] && args+=(/)
    expect "noentity-$cmd" 2 "^azrelay $cmd: the connection string \(from -c\) names no hybrid connection: add ;EntityPath=NAME to it$" -- \
      "${args[@]}" -c "${FAKE_CS%;EntityPath=hc1}"
    expect "cacert-missing-$cmd" 2 "^azrelay $cmd: --cacert $T/none.pem: No such file or directory$" -- "${args[@]}" -c "$FAKE_CS" --cacert "$T/none.pem"
  done
  echo "not a certificate" >"$T/notpem.pem"
  expect cacert-notpem 2 "^azrelay listen: --cacert $T/notpem.pem: no PEM certificate" -- listen --echo -c "$FAKE_CS" --cacert "$T/notpem.pem"
  printf '%s\n' "$FAKE_CS" >"$T/cs.txt"
  expect cs-twice 2 "give the connection string once" -- listen --echo -c "$FAKE_CS" --connection-string-file "$T/cs.txt"
  expect cs-file-missing 2 "^azrelay listen: --connection-string-file $T/none.txt: No such file or directory$" -- \
    listen --echo --connection-string-file "$T/none.txt"
  printf 'garbage\n' >"$T/bad-cs.txt"
  expect cs-file-bad 2 "\(from --connection-string-file $T/bad-cs.txt\): part 1 is not Name=Value" -- \
    token --connection-string-file "$T/bad-cs.txt"

  # Where token takes its connection string from: -c, the file, the environment (in that order).
  local t_file t_env t_c
  t_file=$("$AZRELAY_BIN" token --connection-string-file "$T/cs.txt")
  t_env=$(AZRELAY_CONNECTION_STRING="$FAKE_CS" "$AZRELAY_BIN" token)
  t_c=$(AZRELAY_CONNECTION_STRING="${FAKE_CS/Rule/Other}" "$AZRELAY_BIN" token -c "$FAKE_CS")
  [[ $t_file == *skn=Rule && $t_env == *skn=Rule && $t_c == *skn=Rule ]] ||
    fail "token sources: file '$t_file', env '$t_env', -c over env '$t_c'"
  log "ok: token reads -c, --connection-string-file and AZRELAY_CONNECTION_STRING; -c wins"

  expect forward-port 2 "^azrelay listen: --forward 'localhost:99999': PORT must be 1-65535$" -- listen -c "$FAKE_CS" --forward localhost:99999
  expect forward-noport 2 "^azrelay listen: --forward 'localhost': expected HOST:PORT" -- listen -c "$FAKE_CS" --forward localhost
  expect nomode 2 "^azrelay listen: choose a mode: --echo or --forward HOST:PORT" -- listen -c "$FAKE_CS"
  expect echo-forward 2 "^azrelay listen: --echo and --forward both serve WebSocket senders: choose one$" -- \
    listen -c "$FAKE_CS" --echo --forward 127.0.0.1:80
  expect two-http 2 "^azrelay listen: --http-echo and --http-dir both answer HTTP requests: choose one$" -- \
    listen -c "$FAKE_CS" --http-echo --http-dir "$T"
  expect dotfiles-alone 2 "^azrelay listen: --http-dotfiles needs --http-dir$" -- listen -c "$FAKE_CS" --echo --http-dotfiles
  expect http-dir-missing 2 "^azrelay listen: --http-dir $T/none: No such file or directory$" -- \
    listen -c "$FAKE_CS" --http-dir "$T/none"
  expect proxy-scheme 2 "^azrelay listen: --proxy: unsupported proxy scheme \(use http, https, socks4, socks4a, socks5 or socks5h\)$" -- \
    listen -c "$FAKE_CS" --echo --proxy ftp://127.0.0.1:21
  expect proxy-port 2 "^azrelay connect: --proxy: the proxy port must be 1-65535$" -- connect -c "$FAKE_CS" --proxy "http://u:$FAKE_KEY@127.0.0.1:0"
  expect set-unknown 2 "^azrelay listen: --set Foo: unknown setting 'Foo' \(docs/FEATURES.md lists the settings\)$" -- \
    listen -c "$FAKE_CS" --echo --set Foo=1
  expect set-bad 2 "^azrelay connect: --set MaxFrameSize: 'abc' is not a number$" -- connect -c "$FAKE_CS" --set MaxFrameSize=abc
  expect maxtime 2 "^azrelay connect: --max-time takes whole seconds, 1 or more \(got 'abc'\)$" -- connect -c "$FAKE_CS" --max-time abc
  expect localport 2 "^azrelay connect: --local-port must be 1-65535 \(got '0'\)$" -- connect -c "$FAKE_CS" --local-port 0
  expect header 2 "^azrelay request: --header 'nocolon' is not 'Name: value'$" -- request -c "$FAKE_CS" -H nocolon /
  expect emu-key-twice 2 "^azrelay emulator: give the key once: --key or --key-file$" -- emulator --key a --key-file "$T/cs.txt"
  expect emu-key-file 2 "^azrelay emulator: --key-file $T/none: No such file or directory$" -- emulator --key-file "$T/none"
  no_secret "$FAKE_KEY"
}

case_refusals() {
  start_emulator
  local bad_key
  bad_key=$(sed 's/SharedAccessKey=[^;]*/SharedAccessKey=V3JvbmdLZXlXcm9uZ0tleQ==/' <<<"$CS")
  local no_hc=${CS/EntityPath=hc1/EntityPath=nope}
  local t0=$SECONDS
  expect listen-key 3 "^azrelay listen: the relay refused the credentials \(HTTP 401 .*\): check SharedAccessKeyName and SharedAccessKey in the connection string \(from -c\), and that the rule has the Listen right$" -- \
    listen -c "$bad_key" --cacert "$CERT" --echo
  expect connect-key 3 "^azrelay connect: the relay refused the credentials \(HTTP 401 .*the Send right$" -- connect -c "$bad_key" --cacert "$CERT"
  expect request-key 3 "^azrelay request: the relay refused the credentials \(HTTP 401 " -- request -c "$bad_key" --cacert "$CERT" /
  expect listen-nohc 4 "^azrelay listen: hybrid connection 'nope' does not exist in namespace localhost \(HTTP 404 Endpoint does not exist\): check EntityPath" -- \
    listen -c "$no_hc" --cacert "$CERT" --echo
  expect connect-nohc 4 "^azrelay connect: hybrid connection 'nope' does not exist" -- connect -c "$no_hc" --cacert "$CERT"
  expect request-nohc 4 "^azrelay request: hybrid connection 'nope' does not exist" -- request -c "$no_hc" --cacert "$CERT" /
  expect connect-nolistener 5 "^azrelay connect: no listener is online for hybrid connection 'hc1' \(HTTP 404 There are no listeners connected for the endpoint\): start one" -- \
    connect -c "$CS" --cacert "$CERT"
  expect request-nolistener 5 "^azrelay request: no listener is online for hybrid connection 'hc1'" -- request -c "$CS" --cacert "$CERT" /
  local tls_hint="for the emulator, trust its certificate with --cacert FILE \(its --cert-out\); --insecure skips the check \(tests only\)$"
  expect listen-tls 7 "^azrelay listen: cannot verify the relay's TLS certificate \(.*\): $tls_hint" -- listen -c "$CS" --echo
  expect connect-tls 7 "^azrelay connect: cannot verify the relay's TLS certificate .*$tls_hint" -- connect -c "$CS"
  expect request-tls 7 "^azrelay request: cannot verify the relay's TLS certificate .*$tls_hint" -- request -c "$CS" /
  # The wrong CA: another emulator's certificate.
  "$AZRELAY_BIN" emulator --port 0 --cert-out "$T/other.pem" >"$T/other-emu.out" 2>&1 &
  local other=$!
  wait_lines "$T/other-emu.out" '^ready$' 1 15 "$other" || fail "the second emulator did not start"
  kill "$other"
  expect listen-wrongca 7 "^azrelay listen: cannot verify the relay's TLS certificate against --cacert $T/other.pem" -- \
    listen -c "$CS" --cacert "$T/other.pem" --echo
  ((SECONDS - t0 < 60)) || fail "the refusals took $((SECONDS - t0)) s: something retried"
  # Nothing listening on the port: senders fail at once, a listener keeps trying (relay restarts).
  local dead
  dead=$(free_port)
  local dead_cs=${CS/localhost:$EMU_PORT/localhost:$dead}
  expect connect-refused 8 "^azrelay connect: localhost:$dead refused the connection \(.*\): is the relay \(or the emulator\) running there\?$" -- \
    connect -c "$dead_cs" --cacert "$CERT"
  expect request-refused 8 "^azrelay request: localhost:$dead refused the connection" -- request -c "$dead_cs" --cacert "$CERT" /
  start_bg retrying "$AZRELAY_BIN" listen -c "$dead_cs" --cacert "$CERT" --echo --set ReconnectDelayFirstMs=100 --set ReconnectDelayMaxMs=300
  local rpid=$LAST_PID
  wait_lines "$T/retrying.err" '^control channel: .*\(AZR_E_CONN_REFUSED\); reconnecting in [0-9.]+ s$' 3 20 "$rpid" ||
    fail "listen did not retry a refused connection"
  # A snapshot: the listener keeps writing while the lines are counted.
  cp "$T/retrying.err" "$T/retrying.snapshot"
  local total
  total=$(grep -c '' "$T/retrying.snapshot")
  (($(count_lines "$T/retrying.snapshot" '^control channel: ') == total)) ||
    fail "more than one line per attempt: $(head -n 6 "$T/retrying.snapshot")"
  kill -TERM "$rpid"
  local rc=0
  wait "$rpid" || rc=$?
  ((rc == 0)) || fail "listen exited $rc on SIGTERM"
  log "ok: a refused TCP connection is retried, one line per attempt; SIGTERM exits 0"
  start_bg retry-key "$AZRELAY_BIN" listen -c "$bad_key" --cacert "$CERT" --echo --retry --set AuthErrorRetryDelayMs=200 \
    --set ReconnectDelayFirstMs=100 --set ReconnectDelayMaxMs=300
  wait_lines "$T/retry-key.err" '^control channel: 401 .*\(AZR_E_AUTH\); reconnecting in' 2 20 "$LAST_PID" ||
    fail "listen --retry did not keep retrying a wrong key"
  kill -0 "$LAST_PID" || fail "listen --retry exited"
  log "ok: listen --retry keeps retrying a wrong key"
  no_secret "$(key_of "$CS")"
}

case_closes() {
  start_emulator
  start_bg fwd "$AZRELAY_BIN" listen -c "$CS" --cacert "$CERT" --forward "127.0.0.1:$(free_port)"
  wait_lines "$T/fwd.err" '^listening$' 1 20 "$LAST_PID" || fail "the forwarding listener did not come online"
  printf 'hello\n' >"$T/c1011.in"
  expect c1011 9 "^azrelay connect: the listener closed the connection abnormally: 1011 forwarding target failed$" -- \
    connect -c "$CS" --cacert "$CERT" -q
  stop_bg "$LAST_PID"
  start_bg small "$AZRELAY_BIN" listen -c "$CS" --cacert "$CERT" --echo --set MaxMessageSize=1024
  local small=$LAST_PID
  wait_lines "$T/small.err" '^listening$' 1 20 "$small" || fail "the echo listener did not come online"
  head -c 5000 /dev/zero >"$T/c1009.in"
  expect c1009 9 "^azrelay connect: the listener closed the connection abnormally: 1009 " -- connect -c "$CS" --cacert "$CERT" -q --binary
  printf 'one\ntwo\n' >"$T/echo.in"
  run_cli echo -- connect -c "$CS" --cacert "$CERT" -q
  ((RC == 0)) && [[ $(cat "$T/echo.out") == $'one\ntwo' ]] || fail "a clean echo: exit $RC, '$(cat "$T/echo.out")'"
  log "ok: a clean echo exits 0"
  expect request-501 6 "^azrelay request: the listener answered HTTP 501 Not Implemented$" -- request -c "$CS" --cacert "$CERT" /x
  stop_bg "$small"
  start_bg httponly "$AZRELAY_BIN" listen -c "$CS" --cacert "$CERT" --http-echo
  local httponly=$LAST_PID
  wait_lines "$T/httponly.err" '^listening$' 1 20 "$httponly" || fail "the HTTP listener did not come online"
  expect ws-refused 6 "^azrelay connect: the listener refused the connection: HTTP 501 this listener serves HTTP requests only \(no --echo or --forward\)$" -- \
    connect -c "$CS" --cacert "$CERT"
  # A listener that no longer answers (stopped): --max-time ends the wait.
  kill -STOP "$httponly"
  local t0=$SECONDS
  expect connect-maxtime 10 "^azrelay connect: timed out after 1 s \(--max-time\)$" -- connect -c "$CS" --cacert "$CERT" -m 1
  expect request-maxtime 10 "^azrelay request: timed out after 1 s \(--max-time\)$" -- request -c "$CS" --cacert "$CERT" -m 1 /
  ((SECONDS - t0 <= 8)) || fail "--max-time 1 took $((SECONDS - t0)) s for two commands"
  kill -CONT "$httponly"
}

case_logging() {
  command -v node >/dev/null || skip "node is needed to check the JSON lines"
  start_emulator
  local key
  key=$(key_of "$CS")
  # json: every stderr line one object with the five fields.
  start_bg json env AZRELAY_LOG_FORMAT= "$AZRELAY_BIN" listen -c "$CS" --cacert "$CERT" --echo --http-echo --log-format json -v
  local jpid=$LAST_PID
  wait_lines "$T/json.err" '"message":"listening"' 1 20 "$jpid" || fail "no JSON 'listening' line"
  printf 'hi\n' | timeout 20 "$AZRELAY_BIN" connect -c "$CS" --cacert "$CERT" -vv >"$T/c.out" 2>"$T/c.err" || fail "connect failed"
  timeout 20 "$AZRELAY_BIN" request -c "$CS" --cacert "$CERT" -d ping -v /x >"$T/r.out" 2>"$T/r.err" || fail "request failed"
  grep -q '^> ServiceBusAuthorization: (redacted)$' "$T/r.err" || fail "request -v does not show the redacted header"
  wait_lines "$T/json.err" '"message":"connection [0-9]+ closed' 1 10 "$jpid" || fail "no JSON close line"
  kill -TERM "$jpid"
  wait "$jpid" || fail "listen --log-format json did not exit 0"
  node -e '
    const lines = require("fs").readFileSync(process.argv[1], "utf8").split("\n").filter(Boolean);
    for (const l of lines) {
      const o = JSON.parse(l);
      for (const k of ["time", "level", "command", "category", "message"])
        if (typeof o[k] !== "string") throw new Error(`no ${k} in ${l}`);
      if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/.test(o.time)) throw new Error(`time ${o.time}`);
    }
    if (!lines.some((l) => JSON.parse(l).category === "rendezvous")) throw new Error("no library line at -v");
    console.log(lines.length);' "$T/json.err" >"$T/json.count" || fail "invalid JSON log: $(head -n 3 "$T/json.err")"
  log "ok: --log-format json: $(cat "$T/json.count") valid lines"
  # auto: timestamps in a file, plain under the journal (JOURNAL_STREAM names stderr), -q: errors only.
  start_bg auto env AZRELAY_LOG_FORMAT= "$AZRELAY_BIN" listen -c "$CS" --cacert "$CERT" --echo
  wait_lines "$T/auto.err" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z listening$' 1 20 "$LAST_PID" ||
    fail "no timestamped 'listening' line: $(head -n 2 "$T/auto.err")"
  kill -TERM "$LAST_PID"
  : >"$T/journal.err"
  local js
  js=$(stat -c '%d:%i' "$T/journal.err")
  JOURNAL_STREAM=$js AZRELAY_LOG_FORMAT= setsid "$AZRELAY_BIN" listen -c "$CS" --cacert "$CERT" --echo 2>>"$T/journal.err" &
  CHILD_PIDS+=("$!")
  wait_lines "$T/journal.err" '^listening$' 1 20 "$!" || fail "under the journal the line is not plain: $(head -n 2 "$T/journal.err")"
  kill -TERM "$!"
  start_bg quiet "$AZRELAY_BIN" listen -c "$CS" --cacert "$CERT" --echo -q
  local qpid=$LAST_PID
  for _ in $(seq 50); do
    printf 'q\n' | timeout 10 "$AZRELAY_BIN" connect -c "$CS" --cacert "$CERT" -q >"$T/q.out" 2>"$T/q.err" && break
    sleep 0.2
  done
  [[ $(cat "$T/q.out") == q ]] || fail "the quiet listener did not echo"
  kill -TERM "$qpid"
  wait "$qpid" || true
  [[ ! -s $T/quiet.err && ! -s $T/q.err ]] || fail "-q printed: $(cat "$T/quiet.err" "$T/q.err")"
  log "ok: auto gives timestamps in a file and plain lines to the journal; -q prints nothing"
  start_bg debug "$AZRELAY_BIN" listen -c "$CS" --cacert "$CERT" --echo --log-level 3
  wait_lines "$T/debug.err" '^listening$' 1 20 "$LAST_PID" || fail "the debug listener did not come online"
  printf 'secret-free\n' | timeout 20 "$AZRELAY_BIN" connect -c "$CS" --cacert "$CERT" --log-level debug >"$T/d.out" 2>"$T/d.err" ||
    fail "connect --log-level debug failed"
  kill -TERM "$LAST_PID"
  wait "$LAST_PID" || true
  grep -q '^\[control\]' "$T/debug.err" || fail "--log-level 3 shows no control channel detail"
  no_secret "$key"
}

case_progress() {
  start_emulator
  start_bg echo "$AZRELAY_BIN" listen -c "$CS" --cacert "$CERT" --echo -q
  ECHO_PID=$LAST_PID
  # wait until the listener is online (quiet: probe with a sender)
  for _ in $(seq 50); do
    printf 'x\n' | timeout 10 "$AZRELAY_BIN" connect -c "$CS" --cacert "$CERT" -q >/dev/null 2>&1 && break
    sleep 0.2
  done
  # feed.sh BYTES FILE ERE: BYTES zeros, then (at most 20 s) until FILE matches ERE, then BYTES
  # more. The second half waits for the meter, not for a clock: a sleep raced a slow connect on
  # a loaded machine (the meter's first report comes 1 s after the connection opens).
  cat >"$T/feed.sh" <<'FEED'
#!/usr/bin/env bash
head -c "$1" /dev/zero
for _ in $(seq 200); do grep -sqaE -- "$3" "$2" && break; sleep 0.1; done
head -c "$1" /dev/zero
FEED
  chmod +x "$T/feed.sh"
  # A transfer that lasts over a second: 1 MiB, the meter shows it, 1 MiB.
  "$T/feed.sh" 1048576 "$T/p.err" '^progress: sent 1\.0 MiB' |
    timeout 40 "$AZRELAY_BIN" connect -c "$CS" --cacert "$CERT" --binary --progress >"$T/p.out" 2>"$T/p.err" ||
    fail "connect --progress failed: $(cat "$T/p.err")"
  [[ $(wc -c <"$T/p.out") == 2097152 ]] || fail "the echo is $(wc -c <"$T/p.out") bytes"
  grep -qE '^progress: sent [0-9.]+ (KiB|MiB) \([0-9.]+ [KMG]?i?B/s\), received [0-9.]+ (KiB|MiB) \(.*/s\), [0-9]+ s$' "$T/p.err" ||
    fail "no progress line: $(cat "$T/p.err")"
  grep -qE '^progress: sent 2\.0 MiB .*received 2\.0 MiB' "$T/p.err" || fail "the last progress line is not the total: $(tail -n 2 "$T/p.err")"
  log "ok: --progress: $(tail -n 1 "$T/p.err")"
  # Without --progress and without a terminal: nothing.
  { head -c 65536 /dev/zero; sleep 1.3; } | timeout 30 "$AZRELAY_BIN" connect -c "$CS" --cacert "$CERT" --binary >/dev/null 2>"$T/np.err" ||
    fail "connect failed"
  grep -q progress "$T/np.err" && fail "progress without a terminal: $(cat "$T/np.err")"
  # On a terminal (script(1) gives stderr a pty; stdin stays a pipe): the meter redraws with \r.
  command -v script >/dev/null || skip "script (bsdutils) is needed for the terminal check"
  # -f: the typescript is written as the meter draws, so feed.sh can wait for it.
  local cmd="'$T/feed.sh' 65536 '$T/tty.typescript' 'sent 64\.0 KiB' | '$AZRELAY_BIN' connect -c '$CS' --cacert '$CERT' --binary >/dev/null"
  timeout 40 script -qfec "$cmd" "$T/tty.typescript" >/dev/null </dev/null || fail "connect on a terminal failed: $(cat "$T/tty.typescript")"
  grep -q $'\rsent 64.0 KiB' "$T/tty.typescript" || fail "no meter on the terminal: $(cat -v "$T/tty.typescript")"
  grep -q $'\rsent 128.0 KiB .*received 128.0 KiB' "$T/tty.typescript" || fail "the meter's last line: $(cat -v "$T/tty.typescript")"
  log "ok: the meter on a terminal: $(tr '\r' '\n' <"$T/tty.typescript" | grep -a 'sent 128' | head -n 1)"
  # request on a terminal ends a body without a newline, so what follows starts on its own line.
  stop_bg "$ECHO_PID"
  start_bg http "$AZRELAY_BIN" listen -c "$CS" --cacert "$CERT" --http-echo
  wait_lines "$T/http.err" '^listening$' 1 20 "$LAST_PID" || fail "the HTTP listener did not come online"
  cmd="'$AZRELAY_BIN' request -c '$CS' --cacert '$CERT' -d no-newline /x; echo NEXT"
  timeout 30 script -qec "$cmd" "$T/req.typescript" >/dev/null </dev/null || fail "request on a terminal failed"
  grep -qa $'^no-newline\r$' "$T/req.typescript" && grep -qa '^NEXT' "$T/req.typescript" ||
    fail "the body ran into the next line: $(cat -v "$T/req.typescript")"
  log "ok: request ends the body's line on a terminal"
}

case_emulator() {
  local key=S2V5RnJvbUFGaWxlMDEyMzQ1Njc4OWFiY2RlZg==
  printf '%s\n' "$key" >"$T/key.txt"
  chmod 600 "$T/key.txt"
  start_bg emu-file "$AZRELAY_BIN" emulator --port 0 --hc hc1 --key-file "$T/key.txt"
  local epid=$LAST_PID
  wait_lines "$T/emu-file.out" '^ready$' 1 15 "$epid" || fail "the emulator did not start with --key-file"
  grep -qF "SharedAccessKey=$key;" "$T/emu-file.out" || fail "the connection string does not use the key from --key-file"
  tr '\0' ' ' <"/proc/$epid/cmdline" | grep -qF "$key" && fail "the key is on the command line"
  kill -TERM "$epid"
  log "ok: --key-file: the key is used and not in the command line"
  AZRELAY_EMULATOR_KEY=$key start_bg emu-env "$AZRELAY_BIN" emulator --port 0 --hc hc1
  wait_lines "$T/emu-env.out" '^ready$' 1 15 "$LAST_PID" || fail "the emulator did not start with AZRELAY_EMULATOR_KEY"
  grep -qF "SharedAccessKey=$key;" "$T/emu-env.out" || fail "the connection string does not use AZRELAY_EMULATOR_KEY"
  kill -TERM "$LAST_PID"
  log "ok: AZRELAY_EMULATOR_KEY is used"
  "$AZRELAY_BIN" emulator --help >"$T/emu-help.out"
  grep -q 'AZRELAY_EMULATOR_KEY' "$T/emu-help.out" || fail "emulator --help does not mention AZRELAY_EMULATOR_KEY"
  : >"$T/empty.txt"
  expect emu-key-empty 2 "^azrelay emulator: --key-file $T/empty.txt is empty$" -- emulator --key-file "$T/empty.txt"
  start_bg nohc "$AZRELAY_BIN" emulator --port 0
  wait_lines "$T/nohc.out" '^ready$' 1 15 "$LAST_PID" || fail "the emulator did not start without --hc"
  grep -q "^azrelay emulator: warning: no hybrid connection is defined, so every listener and sender will get 404: add one with --hc NAME" "$T/nohc.err" ||
    fail "no hint without --hc: $(cat "$T/nohc.err")"
  log "ok: without --hc the emulator says how to add one"
}

case_gateway() {
  command -v openssl >/dev/null || { log "SKIP: openssl is not installed"; exit 77; }
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=localhost \
    -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" -keyout "$T/gw-key.pem" -out "$T/gw-cert.pem" 2>/dev/null
  local secret=gateway-secret-for-this-test-0123
  # Home and gateway serve one namespace: the same rule key (the CLI draws a new one otherwise).
  export AZRELAY_EMULATOR_KEY=R2F0ZXdheVRlc3RLZXkwMTIzNDU2Nzg5YWJjZGVmZ2g=
  start_bg home "$AZRELAY_BIN" emulator --port 0 --hc hc1 --tls-cert "$T/gw-cert.pem" --tls-key "$T/gw-key.pem" \
    --set "GatewaySecret=$secret" -v
  local home=$LAST_PID
  wait_lines "$T/home.out" '^ready$' 1 15 "$home" || fail "the home did not start"
  local home_port
  home_port=$(sed -n 's|^endpoint: https://[^:]*:\([0-9]*\)/.*|\1|p' "$T/home.out")
  start_bg gw "$AZRELAY_BIN" emulator --port 0 --hc hc1 --tls-cert "$T/gw-cert.pem" --tls-key "$T/gw-key.pem" \
    --set "GatewaySecret=$secret" --set "HomeAddress=127.0.0.1:$home_port" -v
  local gw=$LAST_PID
  wait_lines "$T/gw.out" '^ready$' 1 15 "$gw" || fail "the gateway did not start"
  unset AZRELAY_EMULATOR_KEY
  local gw_port cs
  gw_port=$(sed -n 's|^endpoint: https://[^:]*:\([0-9]*\)/.*|\1|p' "$T/gw.out")
  cs=$(sed -n 's/^connection string hc1: //p' "$T/home.out")
  start_bg echo "$AZRELAY_BIN" listen -c "$cs" --cacert "$T/gw-cert.pem" --echo
  wait_lines "$T/echo.err" '^listening$' 1 20 "$LAST_PID" || fail "the listener did not come online at the home"
  printf 'through the gateway\n' >"$T/via.in"
  run_cli via -- connect -c "${cs/:$home_port\//:$gw_port/}" --cacert "$T/gw-cert.pem" -q
  ((RC == 0)) && [[ $(cat "$T/via.out") == 'through the gateway' ]] || fail "echo via the gateway: exit $RC, '$(cat "$T/via.out")' $(cat "$T/via.err")"
  grep -q "at gateway 127.0.0.1:$gw_port for 'hc1' offered to listener" "$T/home.err" ||
    fail "the home did not send the listener to the gateway: $(cat "$T/home.err")"
  grep -q "accepted by its listener" "$T/gw.err" || fail "the rendezvous did not reach the gateway: $(cat "$T/gw.err")"
  log "ok: a sender at the gateway reached the listener at the home over TLS"
  no_secret "$secret"
  stop_bg "$gw"
  stop_bg "$home"
}

"case_$CASE"
log "PASS"
