#!/usr/bin/env python3
"""Runs Sprout's workloads and their Python twins side by side, in one run, and prints
one table: workload, Sprout's median, the peer's median, and the ratio (how many times
better Sprout is) with its min / median / max over paired runs.

Workloads are declared in workloads/*.json; each is a list of
  {"name": ..., "unit": ..., "better": "higher"|"lower", "goal": ...,
   "sprout": [argv...], "peers": {"label": [argv...], ...},
   "tools": [wrk|node|cc|valgrind...],   (optional: what setup.sh must find or install)
   "runs": N,                            (optional: paired runs for this workload, instead of
                                          --repeat: cheap start-up workloads take 20)
   "timeout": SECONDS}                   (optional: the cap on one run, instead of --timeout)
An argv may use {python} (the virtualenv's python), {release} (the release build folder
of the Examples package, where the benchmark programs are) and {here} (this folder).
Every program prints 'RESULT <number>' on a line.

    python3 bench/compare/compare.py [--repeat N] [--only SUBSTRING] [--markdown]
    python3 bench/compare/compare.py --list [--only SUBSTRING]   (the workloads' names, nothing run)
"""
import argparse, glob, json, os, statistics, subprocess, sys, time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
VENV = os.path.join(HERE, ".venv")
# The benchmark programs are the Examples package, built with Sprout from this checkout.
EXAMPLES = os.path.join(ROOT, "Examples")
PY_PACKAGES = ["gevent==26.9.0", "uvloop==0.23.0", "aiohttp"]


PY_MODULES = ["gevent", "uvloop", "aiohttp"]


def ensure_venv():
    """The virtualenv's python, with PY_PACKAGES installed; exits saying what is missing."""
    python = os.path.join(VENV, "bin", "python")
    check = [python, "-c", f"import {', '.join(PY_MODULES)}"]
    if os.path.exists(python) and subprocess.run(check, capture_output=True).returncode == 0:
        return python
    print("== setting up the Python virtualenv for the peers", file=sys.stderr)
    if subprocess.run([sys.executable, "-m", "venv", VENV]).returncode != 0:
        sys.exit(f"compare.py: cannot create a virtualenv with {sys.executable} "
                 "(on Debian: apt-get install python3-venv)")
    if subprocess.run([python, "-m", "pip", "install", "-q", *PY_PACKAGES]).returncode != 0:
        sys.exit(f"compare.py: pip could not install {' '.join(PY_PACKAGES)} into {VENV}")
    if subprocess.run(check).returncode != 0:
        sys.exit(f"compare.py: the virtualenv {VENV} still cannot import {', '.join(PY_MODULES)}")
    return python


def ensure_tools(workloads):
    """Installs or finds every tool the chosen workloads run; exits naming what is missing."""
    tools = sorted({tool for w in workloads for tool in w.get("tools", [])})
    if tools and subprocess.run([os.path.join(HERE, "setup.sh"), *tools]).returncode != 0:
        sys.exit("compare.py: a tool these workloads need is missing (see above)")


def build_sprout(products=()):
    """Builds the benchmark programs (only `products`, if given) in release mode and
    returns the folder that holds them."""
    print("== building Sprout's benchmarks in release mode", file=sys.stderr)
    for product in products or [None]:
        only = ["--product", product] if product else []
        subprocess.run(["swift", "build", "-c", "release", *only], cwd=EXAMPLES, check=True, stdout=sys.stderr)
    out = subprocess.run(["swift", "build", "-c", "release", "--show-bin-path"], cwd=EXAMPLES,
                         check=True, capture_output=True, text=True)
    return out.stdout.strip()


def c_program(name):
    """Compiles peers/NAME.c into results/NAME (when the source is newer); returns its path."""
    source, binary = os.path.join(HERE, "peers", name + ".c"), os.path.join(HERE, "results", name)
    if not os.path.exists(binary) or os.path.getmtime(binary) < os.path.getmtime(source):
        os.makedirs(os.path.dirname(binary), exist_ok=True)
        subprocess.run(["cc", "-O2", "-o", binary, source], check=True)
    return binary


def expand(argv, python, release):
    return [a.replace("{python}", python).replace("{release}", release).replace("{here}", HERE)
            for a in argv]


def measure(argv, timeout):
    started = time.time()
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, cwd=ROOT)
    values = [line.split()[1] for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    if proc.returncode != 0 or not values:
        raise RuntimeError(f"{' '.join(argv)} failed ({proc.returncode}) after "
                           f"{time.time() - started:.1f}s:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    return float(values[-1])


def fmt(value):
    return f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--only", default="")
    parser.add_argument("--markdown", action="store_true")
    parser.add_argument("--timeout", type=int, default=300)
    parser.add_argument("--list", action="store_true",
                        help="print each workload's name, unit, peers and tools, and run nothing")
    args = parser.parse_args()

    workloads = []
    for path in sorted(glob.glob(os.path.join(HERE, "workloads", "*.json"))):
        workloads += json.load(open(path))
    workloads = [w for w in workloads if args.only in w["name"]]
    if args.list:
        for w in workloads:
            tools = f"; tools: {', '.join(w['tools'])}" if w.get("tools") else ""
            print(f"{w['name']}  ({w['unit']}, {w['better']} is better; peers: {', '.join(w['peers'])}{tools})")
        return
    if not workloads:
        # Said at once: otherwise the release build runs for minutes before an empty table.
        sys.exit(f"compare.py: no workload name contains {args.only!r}; --list shows the names")
    ensure_tools(workloads)
    python = ensure_venv()
    release = build_sprout()

    rows, failures = [], []
    for w in workloads:
        higher = w["better"] == "higher"
        sprout_argv = expand(w["sprout"], python, release)
        for label, peer in w["peers"].items():
            peer_argv = expand(peer, python, release)
            sprout_values, peer_values, ratios = [], [], []
            timeout = w.get("timeout", args.timeout)
            try:
                for _ in range(w.get("runs", args.repeat)):
                    # Interleaved, so drift on a shared machine hits both sides alike.
                    s = measure(sprout_argv, timeout)
                    p = measure(peer_argv, timeout)
                    sprout_values.append(s)
                    peer_values.append(p)
                    ratios.append(s / p if higher else p / s)
            except (RuntimeError, subprocess.TimeoutExpired) as error:
                # One failed workload must not lose the rows already measured.
                print(f"  {w['name']} vs {label}: FAILED after {len(ratios)} paired runs: {error}", file=sys.stderr)
                failures.append(f"{w['name']} vs {label}")
                if not ratios:
                    continue
                sprout_values = sprout_values[:len(ratios)]
            row = (w["name"], w["unit"], statistics.median(sprout_values), label,
                   statistics.median(peer_values), min(ratios), statistics.median(ratios),
                   max(ratios), w.get("goal", ""))
            rows.append(row)
            print(f"  {w['name']} vs {label}: ratio median {row[6]:.2f}x", file=sys.stderr)

    header = ("workload", "unit", "Sprout (median)", "peer", "peer (median)",
              "ratio min", "ratio median", "ratio max", "goal")
    if args.markdown:
        print("| " + " | ".join(header) + " |")
        print("|" + "---|" * len(header))
        for r in rows:
            print(f"| {r[0]} | {r[1]} | {fmt(r[2])} | {r[3]} | {fmt(r[4])} | {r[5]:.2f}x | "
                  f"{r[6]:.2f}x | {r[7]:.2f}x | {r[8]} |")
    else:
        widths = [max(len(str(h)), 12) for h in header]
        print("  ".join(h.ljust(wd) for h, wd in zip(header, widths)))
        for r in rows:
            cells = [r[0], r[1], fmt(r[2]), r[3], fmt(r[4]), f"{r[5]:.2f}x", f"{r[6]:.2f}x",
                     f"{r[7]:.2f}x", r[8]]
            print("  ".join(str(c).ljust(wd) for c, wd in zip(cells, widths)))
    if failures:
        print(f"(FAILED, rows above from the runs that finished: {', '.join(failures)})")
    print(f"(ratio = how many times better Sprout is; {args.repeat} paired runs each (or as a workload sets), release build, "
          f"{os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
