#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds the `docs` target (the Doxygen reference of connpool.h, warnings are errors), checks
# that every public function has a documented entry, then checks the gate itself: the same
# Doxyfile on a copy of the header with one undocumented function added must fail.
# Usage: check_doxygen.sh CMAKE BUILD_DIR DOXYGEN DOXYFILE HEADER
set -euo pipefail
cmake=$1
build=$2
doxygen=$3
doxyfile=$4
header=$5
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$cmake" --build "$build" --target docs
html=$(dirname "$doxyfile")/html/connpool_8h.html
test -s "$html"

# Every function the header exports has an entry of its own in the file's page (doxygen makes
# entries for documented members only).
mapfile -t functions < <(grep -oE 'CONNPOOL_API[^(]*\bconnpool_[a-z0-9_]+ *\(' "$header" |
                         grep -oE 'connpool_[a-z0-9_]+ *\($' | tr -d ' (' | sort -u)
((${#functions[@]} > 20)) || { echo "found only ${#functions[@]} functions in $header" >&2; exit 1; }
missing=0
for f in "${functions[@]}"; do
  if ! grep -q "</span>$f()</h2>" "$html"; then
    echo "not in the reference: $f" >&2
    missing=1
  fi
done
((missing == 0))
echo "reference documents ${#functions[@]} functions"

# The gate: one undocumented public function must make doxygen fail and name it.
mkdir -p "$work/include/connpool"
sed '$i CONNPOOL_API int connpool_undocumented_probe(void);' "$header" > "$work/include/connpool/connpool.h"
grep -q connpool_undocumented_probe "$work/include/connpool/connpool.h"
if { cat "$doxyfile"
     echo "INPUT = $work/include/connpool/connpool.h"
     echo "STRIP_FROM_PATH = $work/include"
     echo "OUTPUT_DIRECTORY = $work/out"; } | "$doxygen" - >"$work/log" 2>&1; then
  echo "doxygen accepted an undocumented public function: the gate is off" >&2
  cat "$work/log" >&2
  exit 1
fi
grep -q 'connpool_undocumented_probe.*not documented' "$work/log" || {
  echo "doxygen failed, but not for the undocumented function:" >&2
  cat "$work/log" >&2
  exit 1
}
echo "an undocumented public function fails the docs target, as it should"
