#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Adds "SPDX-License-Identifier: Apache-2.0" in each language's comment syntax near the top
# of every tracked source file that lacks it (after a #! line, an XML declaration or a Go
# build constraint, which must stay first). With --check, changes nothing and lists the files
# that lack it (exit 1 if any): the packaging_spdx test.
# Usage: bash scripts/spdx.sh [--check] [SOURCE_DIR]
set -euo pipefail
check=0
if [[ ${1:-} == --check ]]; then check=1; shift; fi
cd "${1:-$(dirname "$0")/..}"
tag='SPDX-License-Identifier: Apache-2.0'

comment_for() {  # the SPDX line for FILE, or nothing for files that are not ours to tag
  case $1 in
    */testdata/*|fuzz/corpus*/*|abi/*|*.json|*.md|LICENSE|NOTICE) return ;;
    *.c|*.h|*.cpp|*.hpp|*.cc|*.java|*.cs|*.go|*.i|*.go.in|*.java.in|*.cs.in)
      echo "// $tag" ;;
    *.sh|*.cmake|*.cmake.in|CMakeLists.txt|*/CMakeLists.txt|*.py|*.txt.in|*.pc.in|*.map|*.toml|*.yml|*.yaml)
      echo "# $tag" ;;
    *.xml|*.xml.in|*.nuspec|*.nuspec.in|*.csproj) echo "<!-- $tag -->" ;;
  esac
}

missing=0
while IFS= read -r -d '' f; do
  [[ -f $f && ! -L $f ]] || continue
  line=$(comment_for "$f") || true
  [[ -n $line ]] || continue
  # A C header/source may open with a /* */ block: the line goes in as a // comment, which
  # C99 and C++ both accept. connpool.map is a linker script: it only takes /* */.
  [[ $f == *.map ]] && line="/* $tag */"
  head -n 5 "$f" | grep -q 'SPDX-License-Identifier:' && continue
  if (( check )); then
    echo "no SPDX-License-Identifier: $f"
    missing=$((missing + 1))
    continue
  fi
  first=$(head -n 1 "$f")
  if [[ $first == '#!'* || $first == '<?xml'* || $first == '//go:build'* ]]; then
    { echo "$first"; echo "$line"; tail -n +2 "$f"; } >"$f.spdx"
  elif [[ $f == *.go || $f == *.go.in ]]; then
    # A blank line after it, so that the file's doc comment stays the package's doc comment.
    { echo "$line"; echo; cat "$f"; } >"$f.spdx"
  else
    { echo "$line"; cat "$f"; } >"$f.spdx"
  fi
  chmod --reference="$f" "$f.spdx"
  mv "$f.spdx" "$f"
  echo "tagged $f"
done < <(git ls-files -z)

if (( check && missing )); then
  echo "$missing tracked source files lack the SPDX line: run bash scripts/spdx.sh" >&2
  exit 1
fi
