#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Conformance of azrelay against a real Azure Relay namespace, in one command: every check of
# tests/conformance (listener online/offline, accept and reject, echo up to 16 MiB, flow control,
# HTTP, the TCP bridge, hyco-ws both ways, 401/403 paths, token renewal, 6 minutes idle, several
# listeners) against the namespace the AZRELAY_CONFORMANCE_CS_* connection strings name. With
# --emulator it starts `azrelay emulator` and runs the same checks against it (what CI does).
# docs/TESTING-AZURE.md: how to create the namespace, what it costs, how to clean up.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CS_NAMES=(AUTH NOAUTH HTTP LISTEN_ONLY SEND_ONLY)

usage() {
  cat <<'EOF'
usage: scripts/azure-conformance.sh [--emulator] [--report FILE] [options]

Runs azrelay's conformance checks against the Azure Relay namespace named by these environment
variables (connection strings of authorization rules, each with EntityPath; never printed):

  AZRELAY_CONFORMANCE_CS_AUTH         hybrid connection requiring client authorization;
                                      a rule with Listen and Send (e.g. RootManageSharedAccessKey)
  AZRELAY_CONFORMANCE_CS_NOAUTH       hybrid connection with requiresClientAuthorization=false;
                                      a rule with Listen and Send
  AZRELAY_CONFORMANCE_CS_HTTP         a third hybrid connection, for the HTTP checks (any
                                      hybrid connection serves HTTP); a rule with Listen and Send
  AZRELAY_CONFORMANCE_CS_LISTEN_ONLY  a rule with only Listen on the AUTH hybrid connection
  AZRELAY_CONFORMANCE_CS_SEND_ONLY    a rule with only Send on the AUTH hybrid connection

Without any of them the Azure run is SKIPPED (exit 77). docs/TESTING-AZURE.md shows how to
create them with the Azure CLI. A run against Azure takes about 7 minutes (idle and token checks).

Options:
  --emulator             start `azrelay emulator` and run every check against it instead
                         (what CI runs; the variables above are then ignored)
  --report FILE          write a Markdown report (versions, every check, what the relay
                         answered where Azure and the emulator may differ) to attach to a bug
  --only REGEX           run only the checks whose id matches (see --list)
  --list                 list the checks and exit
  --idle-seconds N       idle time of idle.keepalive (Azure: 360, the emulator: 10)
  --keepalive-seconds N  AzureRelayKeepAliveTime of every listener and sender the run starts
                         (default: the library's 30 s against Azure, 1 s against the emulator,
                         whose idle cut-off the script sets to 4 s); 0 turns keep-alive off
  --flood-mib N          size of the flow-control flood (default 64)
  --cacert FILE          trust this CA for the relay (e.g. a TLS-inspecting proxy's)
  --build-dir DIR        where azrelay and azr_test_listener were built (default build/release;
                         or set AZRELAY_BIN and AZR_TEST_LISTENER)
  --emulator-set N=V     with --emulator: an extra emulator setting (repeatable), e.g. to see
                         checks turn red: --emulator-set MissingRightStatus=403
  --keep                 keep the temporary folder (emulator log and config)
  -v, --verbose          say when each check starts
  -h, --help             this help

Output: a table of every check (PASS, FAIL, DIFF, SKIP; seconds; detail) on stdout. DIFF means
the check passed but the relay answered differently from the emulator somewhere; the report says
what was seen. Exit status: 0 no check failed, 1 a check failed or none ran, 2 usage or
configuration mistake, 77 skipped (no credentials).
EOF
}

die() {
  echo "azure-conformance: $*" >&2
  exit 2
}

emulator=0 report='' build_dir='' cacert='' keep=0 list=0
run_args=() emu_sets=()
while (($#)); do
  case $1 in
    --emulator) emulator=1 ;;
    --report) report=${2:?--report needs a file}; shift ;;
    --only) run_args+=(--only "${2:?--only needs a pattern}"); shift ;;
    --list) list=1 ;;
    --idle-seconds | --flood-mib | --keepalive-seconds) run_args+=("$1" "${2:?$1 needs a number}"); shift ;;
    --cacert) cacert=${2:?--cacert needs a file}; shift ;;
    --build-dir) build_dir=${2:?--build-dir needs a folder}; shift ;;
    --emulator-set) emu_sets+=(--set "${2:?--emulator-set needs NAME=VALUE}"); shift ;;
    --keep) keep=1 ;;
    -v | --verbose) run_args+=(--verbose) ;;
    -h | --help) usage; exit 0 ;;
    *) die "unknown option '$1' (see --help)" ;;
  esac
  shift
done

command -v node >/dev/null || die "node (20 or later) is needed: apt-get install nodejs"
node_major=$(node -p 'process.versions.node.split(".")[0]')
((node_major >= 20)) || die "node 20 or later is needed, this is $(node --version)"
[[ -f $ROOT/tests/interop/node_modules/hyco-ws/package.json ]] ||
  die "Microsoft's Node packages are missing: run (cd tests/interop && npm ci)"
runner=$ROOT/tests/conformance/run.js
if ((list)); then exec node "$runner" --list; fi

# The programs under test: the CLI and the C library's test listener (a build with tests).
build_dir=${build_dir:-$ROOT/build/release}
export AZRELAY_BIN=${AZRELAY_BIN:-$build_dir/azrelay}
export AZR_TEST_LISTENER=${AZR_TEST_LISTENER:-$build_dir/tests/integration/azr_test_listener}
[[ -x $AZRELAY_BIN ]] || die "no azrelay at $AZRELAY_BIN: build it (README.md) or give --build-dir"
[[ -x $AZR_TEST_LISTENER ]] ||
  die "no azr_test_listener at $AZR_TEST_LISTENER: configure with -DAZR_BUILD_TESTS=ON and build"

skipped() {
  local line='################################################################################'
  printf '%s\n' "$line" \
    "SKIPPED: azrelay conformance against Azure was NOT run: no AZRELAY_CONFORMANCE_CS_* variables." \
    "Nothing was checked against the real service. docs/TESTING-AZURE.md says how to set them;" \
    "scripts/azure-conformance.sh --emulator runs the same checks against the emulator." "$line"
  if [[ -n $report ]]; then
    printf '# azrelay conformance report\n\n**SKIPPED**: no AZRELAY_CONFORMANCE_CS_* connection strings were set, so nothing was checked against Azure.\n' >"$report"
  fi
  exit 77
}

work=''
emu_pid=''
cleanup() {
  if [[ -n $emu_pid ]] && kill -0 "$emu_pid" 2>/dev/null; then
    kill -TERM "$emu_pid" 2>/dev/null || true
    wait "$emu_pid" 2>/dev/null || true
  fi
  if [[ -n $work ]]; then
    if ((keep)); then echo "azure-conformance: kept $work" >&2; else rm -rf "$work"; fi
  fi
}
trap cleanup EXIT

# Starts the emulator with ARGS; waits for "ready". Returns 1 if it exits first.
start_emulator() {
  "$AZRELAY_BIN" emulator --port 0 --config "$work/emulator.json" --key-file "$work/root.key" \
    --cert-out "$work/emulator.pem" --log-format plain "$@" >"$work/emulator.out" 2>"$work/emulator.log" &
  emu_pid=$!
  local i
  for ((i = 0; i < 300; i++)); do
    grep -qx ready "$work/emulator.out" 2>/dev/null && return 0
    kill -0 "$emu_pid" 2>/dev/null || { wait "$emu_pid" || true; emu_pid=''; return 1; }
    sleep 0.1
  done
  die "the emulator printed no 'ready' within 30 s; its log: $work/emulator.log"
}

if ((emulator)); then
  profile=emulator
  umask 077
  work=$(mktemp -d "${TMPDIR:-/tmp}/azr-conformance.XXXXXX")
  key() { head -c 32 /dev/urandom | base64; }
  root_key=$(key) listen_key=$(key) send_key=$(key)
  printf '%s\n' "$root_key" >"$work/root.key"
  # The namespace docs/TESTING-AZURE.md creates in Azure, with the clocks that make the token checks
  # take seconds (a token is enforced 1 s + 1 s after expiry instead of minutes).
  cat >"$work/emulator.json" <<EOF
{
  "hybridConnections": [
    {"name": "conformance-auth", "requiresClientAuthorization": true,
     "rules": [{"name": "conformance-listen", "primaryKey": "$listen_key", "rights": ["Listen"]},
               {"name": "conformance-send", "primaryKey": "$send_key", "rights": ["Send"]}]},
    {"name": "conformance-noauth", "requiresClientAuthorization": false},
    {"name": "conformance-http", "requiresClientAuthorization": true}
  ],
  "settings": {"TokenGraceSeconds": 1, "ClockSkewSeconds": 1}
}
EOF
  # The load balancers' idle cut-off (IdleTimeoutMs), where this emulator has it: 4 s instead of
  # Azure's 4 minutes; the run keeps alive every second and idles 10 s instead of 6 minutes.
  idle_ms=4000
  if ! start_emulator --set "IdleTimeoutMs=$idle_ms" "${emu_sets[@]}"; then
    grep -qi 'IdleTimeoutMs' "$work/emulator.log" || { cat "$work/emulator.log" >&2; die "the emulator did not start"; }
    echo "azure-conformance: this emulator has no IdleTimeoutMs setting: idle.keepalive will be SKIPPED" >&2
    idle_ms=0
    start_emulator "${emu_sets[@]}" || { cat "$work/emulator.log" >&2; die "the emulator did not start"; }
  fi
  authority=$(sed -n 's|^endpoint: https://\([^/]*\)/$|\1|p' "$work/emulator.out")
  [[ -n $authority ]] || die "no endpoint line from the emulator: $(cat "$work/emulator.out")"
  ep="Endpoint=sb://$authority/"
  export AZRELAY_CONFORMANCE_CS_AUTH="$ep;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=$root_key;EntityPath=conformance-auth"
  export AZRELAY_CONFORMANCE_CS_NOAUTH="$ep;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=$root_key;EntityPath=conformance-noauth"
  export AZRELAY_CONFORMANCE_CS_HTTP="$ep;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=$root_key;EntityPath=conformance-http"
  export AZRELAY_CONFORMANCE_CS_LISTEN_ONLY="$ep;SharedAccessKeyName=conformance-listen;SharedAccessKey=$listen_key;EntityPath=conformance-auth"
  export AZRELAY_CONFORMANCE_CS_SEND_ONLY="$ep;SharedAccessKeyName=conformance-send;SharedAccessKey=$send_key;EntityPath=conformance-auth"
  export AZRELAY_CONFORMANCE_EMULATOR_IDLE_MS=$idle_ms
  cacert=$work/emulator.pem
else
  profile=azure
  given=0 missing=()
  for n in "${CS_NAMES[@]}"; do
    v=AZRELAY_CONFORMANCE_CS_$n
    if [[ -n ${!v:-} ]]; then given=$((given + 1)); else missing+=("$v"); fi
  done
  ((given > 0)) || skipped
  ((${#missing[@]} == 0)) || die "set ${missing[*]} too (docs/TESTING-AZURE.md); the run needs all five"
  ((${#emu_sets[@]} == 0)) || die "--emulator-set needs --emulator"
fi

if [[ -n $cacert ]]; then
  [[ -r $cacert ]] || die "cannot read --cacert $cacert"
  export AZRELAY_CONFORMANCE_CACERT=$cacert NODE_EXTRA_CA_CERTS=$cacert
fi
[[ -z $report ]] || run_args+=(--report "$report")

rc=0
if ((emulator)); then
  # The run's own test of its redaction: no key may appear in what it prints or writes.
  { node "$runner" --profile "$profile" "${run_args[@]}" 2>&1 || echo $? >"$work/rc"; } | tee "$work/output"
  [[ ! -f $work/rc ]] || rc=$(<"$work/rc")
  for k in "$root_key" "$listen_key" "$send_key"; do
    if grep -qF -- "$k" "$work/output" ${report:+"$report"}; then
      echo "azure-conformance: FAILED: a key of the emulator appears in the output or the report" >&2
      rc=1
    fi
  done
else
  node "$runner" --profile "$profile" "${run_args[@]}" || rc=$?
fi

if [[ -n $emu_pid ]]; then
  if ! kill -0 "$emu_pid" 2>/dev/null; then
    emu_rc=0
    wait "$emu_pid" || emu_rc=$?
    echo "azure-conformance: FAILED: the emulator died during the run (exit $emu_rc); its log: $work/emulator.log" >&2
    keep=1 rc=1
  else
    kill -TERM "$emu_pid"
    emu_rc=0
    wait "$emu_pid" || emu_rc=$?
    if ((emu_rc != 0)); then
      echo "azure-conformance: FAILED: the emulator exited with $emu_rc when stopped; its log: $work/emulator.log" >&2
      keep=1 rc=1
    fi
  fi
  emu_pid=''
  if ((rc != 0)) && [[ -f $work/emulator.log ]]; then
    echo "---- last lines of the emulator's log ($work/emulator.log, kept) ----" >&2
    tail -n 40 "$work/emulator.log" >&2
    keep=1
  fi
fi
exit "$rc"
