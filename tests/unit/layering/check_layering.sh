#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The layering of docs/ARCHITECTURE.md, checked on every #include of the sources: a layer includes
# only its own headers, the layers below it and the public API, and only the third-party headers
# it is meant to use (so, e.g., the sans-I/O protocol code can never start using a socket library).
# Usage: check_layering.sh SOURCE_DIR. Exits 1 listing every violation.
set -u
root=${1:?source directory}
cd "$root" || exit 2

# layer  directories  allowed project prefixes  allowed third-party headers (regex)
rules=(
  "util|src/util|azrelay/ util/|openssl/"
  "proto|src/proto|azrelay/ util/ proto/|cjson/|http_parser\.h"
  "io|src/io|azrelay/ util/ proto/ io/|uv\.h|curl/|openssl/"
  "config|src/config|azrelay/ util/ proto/ io/ config/|curl/|openssl/"
  "listener|src/listener|azrelay/ util/ proto/ io/ config/ listener/|uv\.h|cjson/"
  "client|src/client|azrelay/ util/ proto/ io/ config/ client/|uv\.h"
  "emulator|emulator|azrelay/ util/ proto/ io/ emulator/|uv\.h|openssl/|cjson/"
  "cli|tools/azrelay|azrelay/ azrelay.h|uv\.h|curl/"
)
# Headers of the C library and the operating system are always allowed.
system='^(std[a-z]*|string|strings|errno|time|unistd|fcntl|limits|signal|ctype|inttypes|math|assert|poll|getopt|termios|dirent|netdb|pthread|sys/[a-z_]+|netinet/[a-z_]+|arpa/[a-z_]+|linux/[a-z_0-9]+)\.h$'

bad=0
checked=0
for rule in "${rules[@]}"; do
  IFS='|' read -r layer dir prefixes third <<<"$rule"
  third_re="^(${third})"
  [[ -n $third ]] || third_re='^$'
  for f in "$dir"/*.c "$dir"/*.h; do
    [[ -e $f ]] || continue
    while IFS= read -r line; do
      [[ $line =~ ^#include[[:space:]]*[\<\"]([^\"\>]+) ]] || continue
      inc=${BASH_REMATCH[1]}
      checked=$((checked + 1))
      if [[ $line == *'<'* ]]; then
        [[ $inc =~ $system ]] && continue
        [[ $inc =~ $third_re ]] && continue
        echo "$f: <$inc> is not a dependency of the $layer layer"
        bad=1
        continue
      fi
      # "name.h" without a directory: a header next to the file (same layer).
      [[ $inc != */* && $inc != azrelay.h ]] && [[ -e ${f%/*}/$inc ]] && continue
      ok=0
      for p in $prefixes; do
        [[ $inc == "$p"* ]] && ok=1
      done
      if ((!ok)); then
        echo "$f: \"$inc\" is above or beside the $layer layer"
        bad=1
      fi
    done < <(grep -E '^#include' "$f")
  done
done
if ((checked < 200)); then
  echo "only $checked includes checked: the source tree was not found"
  exit 1
fi
((bad)) && exit 1
echo "layering: $checked includes checked, all within their layer's dependencies"
