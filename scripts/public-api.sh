#!/usr/bin/env bash
# Lists every public (and open) declaration of the library's modules, one a line, as
# `Module/Folder: declaration` — for reading the public surface by eye, and for diffs of it
# (`scripts/public-api.sh > before; ...; scripts/public-api.sh | diff before -`).
# `--types` lists only types, protocols and type aliases.
set -euo pipefail
cd "$(dirname "$0")/.."
only_types=false
[[ "${1:-}" == "--types" ]] && only_types=true
python3 - "$only_types" <<'PY'
import os, re, sys
only_types = sys.argv[1] == "true"
declaration = re.compile(
    r"^\s*(?:@[\w.]+(?:\([^)]*\))?\s+)*(?:nonisolated(?:\(nonsending\))?\s+)?(?:public|open)\s+"
    r"(?:(?:final|static|class|override|convenience|mutating|nonisolated(?:\(nonsending\))?|indirect|required)\s+)*"
    r"(class|struct|enum|protocol|typealias|actor|func|var|let|init|subscript|case|associatedtype|extension)\b(.*)")
type_kinds = {"class", "struct", "enum", "protocol", "typealias", "actor"}
for module in ("Sprout", "SproutHTTP", "SproutPostgres"):
    base = os.path.join("Sources", module)
    for folder, _, files in sorted(os.walk(base)):
        for name in sorted(files):
            if not name.endswith(".swift"):
                continue
            path = os.path.join(folder, name)
            where = os.path.relpath(folder, "Sources")
            with open(path) as source:
                for line in source:
                    match = declaration.match(line)
                    if not match or (only_types and match.group(1) not in type_kinds):
                        continue
                    text = line.strip().split(" {")[0].rstrip("{ ").strip()
                    print(f"{where}: {text}")
PY
