#!/usr/bin/env bash
# Checks the layering that docs/Architecture.md describes; exits 1 and names each breach.
#
#   scripts/check-layers.sh              # checks Sources/
#   scripts/check-layers.sh --self-test  # proves the check fails on a wrong reference
#   scripts/check-layers.sh DIR          # checks DIR as if it were Sources/
#
# Layers, bottom up (a folder may use the folders below it, never one above it or a
# sibling on its own level):
#   Sprout/Hub  <  Sprout/Greenlets  <  Sprout/Sync  <  Sprout/IO, Sprout/Offload
#     <  Sprout/Processes  <  SproutHTTP, SproutPostgres
# What a folder declares: its top-level types, functions, variables and type aliases, and
# the members its extensions add to types declared elsewhere (checked as `Type.member`).
# A name declared in a folder and again in a lower one is the lower one's. Comments and
# string literals are not code (an interpolation `\(...)` inside a string is).
# C modules: CLibuv only in Sprout/Hub and Sprout/IO, CCurl only in SproutHTTP, CLibpq only
# in SproutPostgres. The hub's timer heap and poll spin (LoopExecutor.shared.timers /
# .pollSpin) only in Sprout/Hub: the rest use Hub.schedule(after:) and friends.
# Sprout/IO makes no HubError: what it throws is IOError (a hub call's error is turned into one).
#
# A name a file binds itself (a local, a member, a parameter) is that file's own.
#
# The self-test copies Sources/ to a temporary folder, adds a Hub file that names a
# Greenlets type, one that imports CCurl and a Sync file that reaches the hub's timer heap,
# and expects this check to fail on all three and
# to pass on a Hub file that names the same type only in a comment and a string.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${1:-}" = "--self-test" ]; then
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
    cp -r Sources "$work/Sources"
    "$0" "$work/Sources" > /dev/null || { echo "self-test: the tree as it is must pass first" >&2; exit 1; }
    printf '// Greenlet<Int> in a comment\nlet layerSelfTestText = "Greenlet<Int>"\n' > "$work/Sources/Sprout/Hub/LayerSelfTestQuiet.swift"
    "$0" "$work/Sources" > /dev/null || { echo "self-test: a name in a comment or string was taken for code" >&2; exit 1; }
    printf 'func layerSelfTest(_ g: Greenlet<Int>) {}\n' > "$work/Sources/Sprout/Hub/LayerSelfTestName.swift"
    printf 'import CCurl\n' > "$work/Sources/Sprout/Hub/LayerSelfTestImport.swift"
    printf 'func layerSelfTestTimers() { _ = LoopExecutor.shared.timers }\n' > "$work/Sources/Sprout/Sync/LayerSelfTestTimers.swift"
    printf 'func layerSelfTestError() -> any Error { HubError(code: -1, operation: "x") }\n' > "$work/Sources/Sprout/IO/LayerSelfTestError.swift"
    set +e
    "$0" "$work/Sources" > "$work/out" 2>&1
    rc=$?
    set -e
    if [ "$rc" -ne 1 ] || ! grep -q "LayerSelfTestName.swift:1: Sprout/Hub names Greenlet" "$work/out" \
        || ! grep -q "LayerSelfTestImport.swift:1: Sprout/Hub imports CCurl" "$work/out" \
        || ! grep -q "LayerSelfTestTimers.swift:1: Sprout/Sync reaches LoopExecutor.shared.timers" "$work/out" \
        || ! grep -q "LayerSelfTestError.swift:1: Sprout/IO makes a HubError" "$work/out"; then
        echo "self-test: the check did not fail as it should (exit $rc):" >&2
        cat "$work/out" >&2
        exit 1
    fi
    echo "check-layers self-test passed (a wrong reference, a wrong import, a reach into the hub and a HubError made in IO/ fail the check)"
    exit 0
fi

exec python3 - "${1:-Sources}" <<'PY'
import os, re, sys

root = sys.argv[1]
# Folder -> rank; a folder may name what ranks below it.
LAYERS = {
    "Sprout/Hub": 0,
    "Sprout/Greenlets": 1,
    "Sprout/Sync": 2,
    "Sprout/IO": 3,
    "Sprout/Offload": 3,
    "Sprout/Processes": 4,
    "SproutHTTP": 5,
    "SproutPostgres": 5,
}
IMPORTS = {
    "CLibuv": {"Sprout/Hub", "Sprout/IO"},
    "CCurl": {"SproutHTTP"},
    "CLibpq": {"SproutPostgres"},
}
# Hub internals reached through the executor: only Hub/ may; the rest call Hub's own API
# (Hub.schedule(after:), Hub.cancelTimer, Hub.requestPollSpin/releasePollSpin).
HUB_ERROR = re.compile(r"\bHubError\s*\(")
HUB_INTERNALS = re.compile(r"\bLoopExecutor\s*\.\s*shared\s*\.\s*(timers|pollSpin)\b")
# (folder, name): why this folder may name something from above. Keep it short.
ALLOWED = {
}

def layer_of(path):
    rel = os.path.relpath(path, root)
    for folder in sorted(LAYERS, key=len, reverse=True):
        if rel == folder or rel.startswith(folder + "/"):
            return folder
    return None

def code_only(text):
    """The text with comments and string literals blanked (newlines kept), interpolations kept."""
    out, i, n = [], 0, len(text)
    # Stack of contexts: "code" with its paren depth, or a string with its delimiter.
    stack = [["code", 0]]
    while i < n:
        top = stack[-1]
        c = text[i]
        if top[0] == "code":
            if text.startswith("//", i):
                j = text.find("\n", i)
                j = n if j < 0 else j
                i = j
                continue
            if text.startswith("/*", i):
                depth, j = 1, i + 2
                while j < n and depth:
                    if text.startswith("/*", j): depth, j = depth + 1, j + 2
                    elif text.startswith("*/", j): depth, j = depth - 1, j + 2
                    else: j += 1
                out.append(re.sub(r"[^\n]", " ", text[i:j]))
                i = j
                continue
            m = re.match(r'(#*)("""|")', text[i:i + 8])
            if m and (m.group(1) or c == '"'):
                stack.append(["string", m.group(2), m.group(1)])
                out.append(" " * len(m.group(0)))
                i += len(m.group(0))
                continue
            if c == "(": top[1] += 1
            elif c == ")":
                if top[1] == 0 and len(stack) > 1:
                    stack.pop()  # the end of an interpolation: back into its string
                    out.append(" ")
                    i += 1
                    continue
                top[1] -= 1
            out.append(c)
            i += 1
        else:
            _, quote, hashes = top
            if text.startswith("\\" + hashes + "(", i):
                stack.append(["code", 0])
                out.append(" " * (len(hashes) + 2))
                i += len(hashes) + 2
                continue
            if text.startswith("\\" + hashes, i):
                # An escape: the backslash, the hashes and the one character escaped.
                width = len(hashes) + 2
                out.append(" " * width)
                i += width
                continue
            if text.startswith(quote + hashes, i):
                stack.pop()
                out.append(" " * (len(quote) + len(hashes)))
                i += len(quote) + len(hashes)
                continue
            out.append("\n" if c == "\n" else " ")
            i += 1
    return "".join(out)

DECL = re.compile(
    r"^(?:@\w+(?:\([^)]*\))?\s+)*(?:(?:public|package|internal|private|fileprivate|final|nonisolated|static|indirect|@\w+)\s+)*"
    r"(?:class|struct|enum|protocol|actor|typealias|func|let|var)\s+([A-Za-z_]\w*)"
)
EXTENSION = re.compile(r"^(?:(?:public|package|internal|private|fileprivate)\s+)?extension\s+([A-Za-z_][\w.]*)")
MEMBER = re.compile(
    r"^    (?:@\w+(?:\([^)]*\))?\s+)*(?:(?:public|package|internal|private|fileprivate|final|nonisolated|static|class|override|mutating|convenience|@\w+)\s+)*"
    r"(?:class|struct|enum|protocol|actor|typealias|func|let|var)\s+([A-Za-z_]\w*)"
)

files = []
for dirpath, _, names in os.walk(root):
    for name in names:
        if name.endswith(".swift"):
            path = os.path.join(dirpath, name)
            layer = layer_of(path)
            if layer:
                with open(path, encoding="utf-8") as f:
                    files.append((path, layer, code_only(f.read())))

declared = {}   # bare name -> set of layers declaring it at top level
members = {}    # "Type.member" -> set of layers whose extensions add it
for path, layer, code in files:
    extended = None
    for line in code.split("\n"):
        m = DECL.match(line)
        if m:
            declared.setdefault(m.group(1), set()).add(layer)
            extended = None
            continue
        m = EXTENSION.match(line)
        if m:
            extended = m.group(1)
            continue
        if line.startswith("}"):
            extended = None
        if extended:
            m = MEMBER.match(line)
            if m:
                members.setdefault(extended + "." + m.group(1), set()).add(layer)

def above(layer, layers):
    """True when no declaring layer is `layer` itself or lies below it."""
    return not any(other == layer or LAYERS[other] < LAYERS[layer] for other in layers)

IDENT = re.compile(r"\b([A-Za-z_]\w*)(?:\s*\.\s*([A-Za-z_]\w*))?")
IMPORT = re.compile(r"^\s*(?:@\w+(?:\([^)]*\))?\s+)*import\s+(?:(?:struct|class|enum|func|var|let|typealias|protocol)\s+)?(\w+)")
# Names a file binds itself (locals, members, parameters) are its own wherever they appear.
LOCAL = re.compile(r"\b(?:let|var|func|case|class|struct|enum|typealias|protocol|actor)\s+([A-Za-z_]\w*)|[(,]\s*(?:\w+\s+)?([A-Za-z_]\w*)\s*:")
breaches = []
for path, layer, code in sorted(files):
    own = {a or b for a, b in LOCAL.findall(code)}
    for number, line in enumerate(code.split("\n"), 1):
        m = IMPORT.match(line)
        if m:
            allowed = IMPORTS.get(m.group(1))
            if allowed is not None and layer not in allowed:
                breaches.append(f"{path}:{number}: {layer} imports {m.group(1)} (allowed only in {', '.join(sorted(allowed))})")
            continue
        if layer == "Sprout/IO" and HUB_ERROR.search(line):
            breaches.append(f"{path}:{number}: Sprout/IO makes a HubError (it throws IOError)")
        m = HUB_INTERNALS.search(line)
        if m and layer != "Sprout/Hub":
            breaches.append(f"{path}:{number}: {layer} reaches LoopExecutor.shared.{m.group(1)} (use the Hub's own calls)")
        for m in IDENT.finditer(line):
            name, member = m.group(1), m.group(2)
            for key, table in ((name, declared), (f"{name}.{member}" if member else None, members)):
                if key is None or key not in table or key in own or (layer, key) in ALLOWED:
                    continue
                if above(layer, table[key]):
                    owners = ", ".join(sorted(table[key]))
                    breaches.append(f"{path}:{number}: {layer} names {key}, declared above it in {owners}")

for breach in breaches:
    print(breach)
if breaches:
    print(f"check-layers: {len(breaches)} reference(s) break the layering (docs/Architecture.md)", file=sys.stderr)
    sys.exit(1)
print(f"check-layers: {len(files)} files follow the layering")
PY
