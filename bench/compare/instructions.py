#!/usr/bin/env python3
"""Counts the user-space instructions and heap allocations Sprout spends per operation,
under valgrind's callgrind (deterministic, unlike time on a shared machine), and checks
them against the baseline committed beside this file: CI's regression gate.

    instructions.py [FIGURE...]      print the figures (default: every checked one)
    instructions.py --check          also fail (exit 1) when a figure exceeds its baseline
                                     by more than 5 % (instructions or allocations)
    instructions.py --update         write the measured figures as the new baseline

Figures (each is the difference of a long and a short run divided by the operations
between them, so start-up and teardown drop out):
  echo            TCP echo server, per round trip (20 clients x 64 B, echo_client.c)
  echo-peer       the same for uvloop's Protocol server (not checked: not Sprout's)
  http-server     HTTP server, per keep-alive request (20 clients, http_load.c)
  channel         Channel hand-off between two greenlets, per item
  queue           unbounded Queue put and get, per item
  ping-pong       sleep(0) between two greenlets, per switch
  spawn           spawn + joinAll of trivial greenlets, per greenlet
  pool-roundtrip  one job to an idle 1-worker process pool and back, per job (the parent's
                  count: the worker is another process, and the hub's poll spin, whose
                  length depends on time, is left out)
Allocations are calls to malloc, calloc, realloc, posix_memalign, aligned_alloc and
memalign. Needs valgrind and a C compiler (setup.sh installs them).
"""
import argparse, json, os, signal, socket, subprocess, sys, tempfile, time

import compare

HERE = compare.HERE
ROOT = compare.ROOT
BASELINE = os.path.join(HERE, "instructions-baseline.json")
TOLERANCE = 0.05
ALLOCATORS = {"malloc", "calloc", "realloc", "posix_memalign", "aligned_alloc", "memalign"}
# The hub's spin before it sleeps (Hub/PollSpin.swift) runs for a time, not a count.
TIME_BOUND = "*PollSpin*before*"


def release_bin(product):
    """Builds `product` in release mode and returns the executable's path."""
    return os.path.join(compare.build_sprout([product]), product)


def counts(path):
    """(instructions, allocation calls) recorded in a callgrind output file."""
    names, total, allocations, callee = {}, None, 0, None
    with open(path) as f:
        for line in f:
            if line.startswith(("fn=", "cfn=")):
                key, _, rest = line.rstrip("\n").partition("=")
                ident, _, name = rest.partition(" ")
                if name:
                    names[ident] = name
                if key == "cfn":
                    callee = names.get(ident, ident)
            elif line.startswith("calls="):
                if callee in ALLOCATORS:
                    allocations += int(line[6:].split()[0])
            elif line.startswith(("totals:", "summary:")):
                total = int(line.split()[1])
    if total is None:
        raise RuntimeError(f"no totals in {path}")
    return total, allocations


class Callgrind:
    """Runs programs under callgrind into a scratch folder."""

    def __init__(self, folder):
        self.folder = folder
        self.runs = 0

    def argv(self, program):
        self.runs += 1
        out = os.path.join(self.folder, f"callgrind.{self.runs}")
        return out, ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
                     # After --toggle-collect, which would otherwise turn collection off at start.
                     f"--toggle-collect={TIME_BOUND}", "--collect-atstart=yes", *program]

    def run(self, program):
        """Runs `program` to its end under callgrind; returns its counts."""
        out, argv = self.argv(program)
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                       timeout=600)
        return counts(out)

    def serve(self, program, load, ready):
        """Starts the server `program` under callgrind, waits for `ready(process)` to
        return its port, runs `load(port)`, stops the server with SIGTERM; returns its counts."""
        out, argv = self.argv(program)
        server = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        try:
            load(ready(server))
        finally:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=60)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        return counts(out)


def per_operation(long, short, operations):
    return ((long[0] - short[0]) / operations, (long[1] - short[1]) / operations)


def printed_port(server):
    line = server.stdout.readline()
    if not line.startswith("PORT "):
        raise RuntimeError(f"the server did not print its port: {line!r}")
    return int(line.split()[1])


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def listening(port):
    def wait(server):
        deadline = time.time() + 60
        while time.time() < deadline:
            if server.poll() is not None:
                raise RuntimeError("the server exited before it listened")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return port
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"nothing listened on port {port} within 60 s")
    return wait


def load_run(argv):
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, timeout=600)


def echo(grind, server):
    client = compare.c_program("echo_client")
    runs = [grind.serve(server, lambda port: load_run([client, str(port), "20", str(rounds), "64"]),
                        printed_port) for rounds in (1200, 200)]
    return per_operation(runs[0], runs[1], 20 * 1000)


def http_server(grind, bench):
    client = compare.c_program("http_load")
    runs = []
    for rounds in (600, 100):
        port = free_port()
        runs.append(grind.serve([bench, "http-serve", str(port)],
                                lambda port: load_run([client, str(port), "20", str(rounds)]),
                                listening(port)))
    return per_operation(runs[0], runs[1], 20 * 500)


def in_process(grind, argv, long, short):
    return per_operation(grind.run(argv + [str(long)]), grind.run(argv + [str(short)]), long - short)


def measure(name, grind):
    if name == "echo":
        return echo(grind, [release_bin("sprout-bench"), "echo-server"])
    if name == "echo-peer":
        python = compare.ensure_venv()
        return echo(grind, [python, os.path.join(HERE, "peers", "echo_asyncio.py"), "--uvloop", "--protocol"])
    if name == "http-server":
        return http_server(grind, release_bin("sprout-bench"))
    if name == "channel":
        return in_process(grind, [release_bin("sprout-bench"), "channel-handoff"], 22000, 2000)
    if name == "queue":
        return in_process(grind, [release_bin("sprout-bench"), "queue-put-get"], 22000, 2000)
    if name == "ping-pong":
        # Two greenlets, so a round is two switches.
        instructions, allocations = in_process(grind, [release_bin("sprout-bench"), "ping-pong"], 22000, 2000)
        return instructions / 2, allocations / 2
    if name == "spawn":
        return in_process(grind, [release_bin("sprout-bench"), "spawn-join"], 22000, 2000)
    if name == "pool-roundtrip":
        return in_process(grind, [release_bin("sprout-bench-pool"), "pool-roundtrip"], 2200, 200)
    raise SystemExit(f"unknown figure {name}")


CHECKED = ["echo", "http-server", "channel", "queue", "ping-pong", "spawn", "pool-roundtrip"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("figures", nargs="*")
    parser.add_argument("--check", action="store_true")
    parser.add_argument("--update", action="store_true")
    args = parser.parse_args()
    if subprocess.run([os.path.join(HERE, "setup.sh"), "valgrind", "cc"]).returncode != 0:
        sys.exit("instructions.py: valgrind or a C compiler is missing (see above)")
    names = args.figures or CHECKED
    baseline = json.load(open(BASELINE)) if os.path.exists(BASELINE) else {}
    measured, failures = {}, []
    with tempfile.TemporaryDirectory() as folder:
        grind = Callgrind(folder)
        for name in names:
            started = time.time()
            instructions, allocations = measure(name, grind)
            measured[name] = {"instructions": round(instructions), "allocations": round(allocations, 2)}
            line = f"{name}: {instructions:,.0f} instructions, {allocations:.2f} allocations per operation"
            base = baseline.get(name)
            if base:
                line += (f" (baseline {base['instructions']:,}, {base['allocations']:.2f}:"
                         f" {instructions / base['instructions'] - 1:+.1%})")
                if instructions > base["instructions"] * (1 + TOLERANCE):
                    failures.append(f"{name}: {instructions:,.0f} instructions per operation, "
                                    f"more than {TOLERANCE:.0%} over the baseline {base['instructions']:,}")
                if allocations > base["allocations"] * (1 + TOLERANCE) + 0.01:
                    failures.append(f"{name}: {allocations:.2f} allocations per operation, "
                                    f"more than {TOLERANCE:.0%} over the baseline {base['allocations']:.2f}")
            print(f"{line} [{time.time() - started:.0f} s]", flush=True)
    if args.update:
        baseline.update(measured)
        with open(BASELINE, "w") as f:
            json.dump(baseline, f, indent=2, sort_keys=True)
            f.write("\n")
        print(f"wrote {os.path.relpath(BASELINE, ROOT)}")
    if args.check:
        missing = [name for name in names if name not in baseline]
        if missing:
            failures.append(f"no baseline for {', '.join(missing)} (run with --update)")
        for failure in failures:
            print(f"REGRESSION {failure}", file=sys.stderr)
        if failures:
            print("A change that costs more on purpose updates the baseline with --update and "
                  "says why in its commit message.", file=sys.stderr)
            sys.exit(1)


if __name__ == "__main__":
    main()
