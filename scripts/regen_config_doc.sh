#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Regenerates the key table in docs/CONFIGURATION.md from core/config/config.cpp (the table between
# the BEGIN/END GENERATED markers; test config_doc_in_sync checks it).
#   bash scripts/regen_config_doc.sh [path/to/connpool_config_doc]   default: build/dev/tools/...
set -euo pipefail
cd "$(dirname "$0")/.."
gen=${1:-build/dev/tools/connpool_config_doc}
table=$("$gen")
python3 - "$table" <<'PY'
import sys
path = "docs/CONFIGURATION.md"
begin, end = "<!-- BEGIN GENERATED: config_doc -->\n", "<!-- END GENERATED: config_doc -->"
doc = open(path).read()
b = doc.index(begin) + len(begin)
e = doc.index(end)
open(path, "w").write(doc[:b] + sys.argv[1] + "\n" + doc[e:])
PY
