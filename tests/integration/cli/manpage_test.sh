#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The man pages are well formed (groff -ww says nothing) and complete: every option each
# subcommand's --help shows is described in azrelay(1) (in the command's own section unless it is
# shared), every exit code of tools/azrelay/cli.h has its EXIT STATUS entry (and a README row),
# and every AZRELAY_* variable the sources read is under ENVIRONMENT.
set -euo pipefail
CASE=manpage
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
need_cmd groff groff-base
: "${AZR_SOURCE_DIR:?}"
MAN=$AZR_SOURCE_DIR/docs/man

for page in azrelay.1 libazrelay.3; do
  groff -man -ww -z -Tascii "$MAN/$page" >"$T/$page.warn" 2>&1 || fail "groff failed on $page"
  [[ ! -s $T/$page.warn ]] || fail "groff warns about $page: $(head -n 5 "$T/$page.warn")"
done
log "ok: groff -ww has nothing to say about azrelay.1 and libazrelay.3"

groff -man -Tascii -P-cbou "$MAN/azrelay.1" 2>/dev/null >"$T/azrelay.txt"
# section TITLE: the rendered lines from the heading TITLE to the next heading of its level.
section() { awk -v t="$1" 'index($0, t) == 1 || (index($0, "   " t) == 1) {on = 1; print; next}
  on && /^(   )?[A-Za-z]/ && !/^       / {exit} on' "$T/azrelay.txt"; }
shared=" --help --version --verbose --quiet --log-level --log-format --connection-string --connection-string-file --cacert --insecure --proxy "
for cmd in emulator listen connect request token; do
  section "azrelay $cmd" >"$T/$cmd.section"
  [[ -s $T/$cmd.section ]] || fail "no section for azrelay $cmd"
  # The option column of --help: lines starting with an option, up to the description.
  opts=$("$AZRELAY_BIN" "$cmd" --help | sed -nE 's/^ +(-.*)$/\1/p' | sed -E 's/  .*//' | grep -oE -- '--[a-z][a-z0-9-]*' | sort -u)
  [[ -n $opts ]] || fail "no options in azrelay $cmd --help"
  for opt in $opts; do
    where=$T/$cmd.section
    [[ $shared == *" $opt "* ]] && where=$T/azrelay.txt
    grep -qE -- "(^|[^a-z-])$opt([^a-z-]|\$)" "$where" || fail "azrelay $cmd --help shows $opt; azrelay(1) does not describe it"
  done
done
log "ok: every option of every --help is in azrelay(1)"

section "EXIT STATUS" >"$T/exit.section"
codes=$(sed -n 's/^ *CLI_[A-Z_]* = \([0-9]*\),.*/\1/p' "$AZR_SOURCE_DIR/tools/azrelay/cli.h")
[[ -n $codes ]] || fail "no exit codes found in cli.h"
for code in $codes; do
  grep -qE "^       $code( |\$)" "$T/exit.section" || fail "exit code $code has no entry in EXIT STATUS"
  grep -qE "^\| $code \|" "$AZR_SOURCE_DIR/README.md" || fail "exit code $code has no row in README.md"
done
log "ok: exit codes $(tr '\n' ' ' <<<"$codes")in azrelay(1) and README.md"

section ENVIRONMENT >"$T/env.section"
for var in $(grep -ohE '"AZRELAY_[A-Z_]+"' "$AZR_SOURCE_DIR"/tools/azrelay/*.c | tr -d '"' | sort -u); do
  grep -q "^       $var" "$T/env.section" || fail "$var is read by the CLI but not under ENVIRONMENT"
done
log "ok: every AZRELAY_* variable is documented"
log "PASS"
