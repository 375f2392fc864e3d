#!/usr/bin/env bash
# Runs the CPU-offload comparison in Swift (cpu-offload, release) and in Python
# (peers/cpu_offload.py under the harness's virtualenv) one after the other on this
# machine, prints both tables, then the two side by side.
#
#   bench/compare/cpu_offload.sh [--duration S] [--workers N] [--pieces N] [--nice N]
#   SWIFT_SIZE=... PYTHON_SIZE=... bench/compare/cpu_offload.sh     (work per round)
#
# The Python peer counts fewer primes per round (CPython is ~100x slower at this loop), so
# compare ratios — speedup, lateness, HTTP latency — not seconds.
set -euo pipefail
cd "$(dirname "$0")/../.."
here=bench/compare
results="$here/results"
mkdir -p "$results"

python=$(python3 -c "import sys; sys.path.insert(0, '$here'); import compare; print(compare.ensure_venv())")
swift build -c release --package-path Examples --product cpu-offload >&2
bin=$(swift build -c release --package-path Examples --show-bin-path)

echo "== Sprout (Swift, release)"
"$bin/cpu-offload" --size "${SWIFT_SIZE:-4000000}" --output "$results/cpu-offload.svg" --rows "$results/cpu-offload-sprout.tsv" "$@"
echo
echo "== Python (gevent, multiprocessing, concurrent.futures)"
"$python" "$here/peers/cpu_offload.py" --size "${PYTHON_SIZE:-150000}" --rows "$results/cpu-offload-python.tsv" "$@"
echo
echo "== Side by side (ratios; each side against its own baseline)"
python3 - "$results/cpu-offload-sprout.tsv" "$results/cpu-offload-python.tsv" <<'PY'
import sys
def rows(path):
    return [line.rstrip("\n").split("\t") for line in open(path) if line.strip()]
def ms(ns):
    v = int(ns) / 1e6
    return f"{v:.3f}" if v < 1 else f"{v:.2f}" if v < 10 else f"{v:.1f}" if v < 100 else f"{v:.0f}"
sprout, python = rows(sys.argv[1]), rows(sys.argv[2])
header = ["Sprout mode", "speedup", "hub p99/max ms", "HTTP p99 ms", "|", "Python mode", "speedup", "hub p99/max ms", "HTTP p99 ms"]
def cells(r):
    if r is None:
        return ["", "", "", ""]
    late = "-" if r[4] == "0" and r[1] == "1.00" and r[6] == "0" else f"{ms(r[3])} / {ms(r[4])}"
    http = "-" if r[6] == "0" else f"{ms(r[7])} ({r[5]}/{r[6]})"
    return [r[0], r[1] + "x", late, http]
lines = [header]
for i in range(max(len(sprout), len(python))):
    lines.append(cells(sprout[i] if i < len(sprout) else None) + ["|"] + cells(python[i] if i < len(python) else None))
widths = [max(len(l[c]) for l in lines) for c in range(len(header))]
for n, l in enumerate(lines):
    print("  ".join(c.ljust(widths[i]) if i in (0, 5) else c.rjust(widths[i]) for i, c in enumerate(l)))
    if n == 0:
        print("-" * (sum(widths) + 2 * (len(widths) - 1)))
print(f"\nchart (Sprout): {sys.argv[1].replace('-sprout.tsv', '.svg')}")
PY
