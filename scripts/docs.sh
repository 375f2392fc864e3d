#!/usr/bin/env bash
# Builds the DocC documentation of Sprout and SproutHTTP with the toolchain's own `docc`,
# warnings as errors (a broken symbol link or an undocumented parameter fails the build),
# fails on any public symbol without a doc comment, runs every snippet in Snippets/ (SwiftPM
# builds them as executables with every `swift build`) and checks that each code sample the
# articles take from a snippet is still in it. Nothing is added to what a depending package
# resolves: no plugin, no dependency, only this script.
#
#   scripts/docs.sh [OUTPUT]     # archives in OUTPUT (default .build/docs)
#   scripts/docs.sh --self-test  # proves a broken symbol link and a stale snippet fail it
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${1:-}" = "--self-test" ]; then
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
    cp -r Sources/Sprout/Sprout.docc "$work/Sprout.docc.saved"
    restore() { rm -rf Sources/Sprout/Sprout.docc && cp -r "$work/Sprout.docc.saved" Sources/Sprout/Sprout.docc; }
    trap 'restore; rm -rf "$work"' EXIT
    printf '# Broken\n\nSee ``NoSuchSymbolAnywhere``.\n' > Sources/Sprout/Sprout.docc/SelfTestBroken.md
    if "$0" "$work/out" > "$work/log" 2>&1; then
        echo "self-test: a broken symbol link did not fail the build" >&2; exit 1
    fi
    grep -q "NoSuchSymbolAnywhere" "$work/log" || { echo "self-test: the failure did not name the broken link" >&2; cat "$work/log" >&2; exit 1; }
    restore
    printf '# Stale\n\n```swift\n// Snippets/SyncPrimitives.swift\nlet notInTheSnippet = 1\n```\n' > Sources/Sprout/Sprout.docc/SelfTestStale.md
    if "$0" "$work/out" > "$work/log" 2>&1; then
        echo "self-test: a sample missing from its snippet did not fail the build" >&2; exit 1
    fi
    grep -q "SelfTestStale.md" "$work/log" || { echo "self-test: the failure did not name the stale sample" >&2; cat "$work/log" >&2; exit 1; }
    echo "docs self-test passed (a broken symbol link and a stale snippet sample fail the build)"
    exit 0
fi

output=${1:-.build/docs}
# The modules' interfaces and the snippets come from the debug build (a no-op when it is
# up to date).
swift build 2>&1 | grep -E "warning:|error:" && exit 1
bin=$(swift build --show-bin-path)
modules=$bin/Modules

for snippet in Snippets/*.swift; do
    name=$(basename "$snippet" .swift)
    timeout 120 "$bin/$name" > /dev/null || { echo "docs: the snippet $name failed (status $?)" >&2; exit 1; }
done

# Each article's ```swift block whose first line names a Swift file (`// Snippets/NAME.swift`,
# a seed twin) must appear, apart from that line, in that file: the same lines in a row,
# all indented alike.
python3 - <<'PY'
import pathlib, re, sys

def within(block, source):
    lines, code = block.splitlines(), source.splitlines()
    for start in range(len(code) - len(lines) + 1):
        first = code[start]
        indent = first[:len(first) - len(first.lstrip())]
        if all((want == "" and have.strip() == "") or have == indent + want
               for want, have in zip(lines, code[start:start + len(lines)])):
            return True
    return False

stale = []
for article in sorted(pathlib.Path("Sources").glob("*/*.docc/*.md")):
    text = article.read_text()
    for match in re.finditer(r"```swift\n// ([\w/+-]+\.swift)\n(.*?)```", text, re.S):
        source = pathlib.Path(match.group(1))
        if not source.is_file() or not within(match.group(2), source.read_text()):
            line = text[:match.start()].count("\n") + 1
            stale.append(f"{article}:{line}: this sample is not in {source} word for word")
for entry in stale:
    print(entry, file=sys.stderr)
sys.exit(1 if stale else 0)
PY

mkdir -p "$output"
for module in Sprout SproutHTTP; do
    graphs=$(mktemp -d)
    swift-symbolgraph-extract -module-name "$module" -I "$modules" -I CLibuv -I CSproutLinux -I CCurl -I CLibpq \
        -target "$(uname -m)-unknown-linux-gnu" -minimum-access-level public -skip-synthesized-members \
        -output-dir "$graphs"
    python3 - "$graphs/$module.symbols.json" <<'PY'
import json, sys
undocumented = [
    f"{s.get('location', {}).get('uri', '?').split('/Sources/')[-1]}: {'.'.join(s['pathComponents'])}"
    for s in json.load(open(sys.argv[1]))["symbols"] if "docComment" not in s
]
for entry in undocumented:
    print(f"public symbol without a doc comment: {entry}", file=sys.stderr)
sys.exit(1 if undocumented else 0)
PY
    rm -rf "$output/$module.doccarchive"
    status=0
    docc convert "Sources/$module/$module.docc" --additional-symbol-graph-dir "$graphs" \
        --fallback-display-name "$module" --fallback-bundle-identifier "dev.sprout.$module" \
        --output-path "$output/$module.doccarchive" --warnings-as-errors || status=$?
    rm -rf "$graphs"
    if [ "$status" -ne 0 ]; then
        echo "docs: $module's documentation has warnings (above)" >&2
        exit "$status"
    fi
    echo "docs: $module -> $output/$module.doccarchive"
done
