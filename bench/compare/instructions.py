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
  queue-bounded   the same for Queue(maxSize: 64) (not checked)
  http-client     HTTPClient, per keep-alive request to sprout-bench's server, one at a
                  time, with the split by object file (not checked)
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
    """(instructions, allocation calls, instructions by object file) recorded in a callgrind
    output file; an object's are those of its own code (self cost), not of what it calls."""
    names, total, allocations, callee = {}, None, 0, None
    objects, by_object, current, after_calls = {}, {}, "?", False
    with open(path) as f:
        for line in f:
            if line.startswith(("fn=", "cfn=")):
                key, _, rest = line.rstrip("\n").partition("=")
                ident, _, name = rest.partition(" ")
                if name:
                    names[ident] = name
                if key == "cfn":
                    callee = names.get(ident, ident)
            elif line.startswith(("ob=", "cob=")):
                key, _, rest = line.rstrip("\n").partition("=")
                ident, _, name = rest.partition(" ")
                if name:
                    objects[ident] = os.path.basename(name)
                if key == "ob":
                    current = objects.get(ident, ident)
            elif line.startswith("calls="):
                if callee in ALLOCATORS:
                    allocations += int(line[6:].split()[0])
                # The next cost line is the call's inclusive cost, not the caller's own.
                after_calls = True
                continue
            elif line.startswith(("totals:", "summary:")):
                total = int(line.split()[1])
            elif line[:1].isdigit() or line[:1] in "+-*":
                fields = line.split()
                if not after_calls and len(fields) > 1:
                    by_object[current] = by_object.get(current, 0) + int(fields[1])
            after_calls = False
    if total is None:
        raise RuntimeError(f"no totals in {path}")
    return total, allocations, by_object


class Callgrind:
    """Runs programs under callgrind into a scratch folder."""

    def __init__(self, folder):
        self.folder = folder
        self.runs = 0

    def argv(self, program):
        self.runs += 1
        # One file per process (%p, its pid): a process the program forks (the pool's fork
        # server, the workers forked from it) goes on under callgrind and writes its own file
        # when it exits, over the parent's if they shared a name.
        out = os.path.join(self.folder, f"callgrind.{self.runs}.%p")
        return out, ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
                     # After --toggle-collect, which would otherwise turn collection off at start.
                     f"--toggle-collect={TIME_BOUND}", "--collect-atstart=yes", *program]

    def run(self, program):
        """Runs `program` to its end under callgrind; returns its counts."""
        out, argv = self.argv(program)
        process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            _, errors = process.communicate(timeout=600)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise
        if process.returncode != 0:
            raise subprocess.CalledProcessError(process.returncode, argv, stderr=errors)
        return own_counts(out, process)

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
        return own_counts(out, server)


def own_counts(out, process):
    """The counts of `process` itself (valgrind runs the program in the process it was
    started as, so the pid is the program's), not of the processes it forked."""
    return counts(out.replace("%p", str(process.pid)))


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


def in_process(grind, argv, long, short, after=()):
    """Per operation of `argv N *after`, run for N = `long` and `short` operations."""
    return per_operation(grind.run(argv + [str(long), *after]), grind.run(argv + [str(short), *after]),
                         long - short)


def http_client(grind, bench):
    """The keep-alive client's count per request, and its split by object file, against
    sprout-bench's own server (run natively, not under callgrind), one request at a time."""
    port = free_port()
    server = subprocess.Popen([bench, "http-serve", str(port)], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        listening(port)(server)
        url = f"http://127.0.0.1:{port}/"
        runs = [grind.run([bench, "http-fetch", url, str(requests), "1", "keepalive"])
                for requests in (4500, 500)]
    finally:
        server.terminate()
        server.wait()
    split = {name: (runs[0][2].get(name, 0) - runs[1][2].get(name, 0)) / 4000
             for name in set(runs[0][2]) | set(runs[1][2])}
    largest = sorted(split.items(), key=lambda item: -item[1])[:8]
    print("http-client by object: " + ", ".join(f"{name} {cost:,.0f}" for name, cost in largest))
    return per_operation(runs[0], runs[1], 4000)


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
    if name == "queue-bounded":
        return in_process(grind, [release_bin("sprout-bench"), "queue-put-get"], 22000, 2000, ["64"])
    if name == "http-client":
        return http_client(grind, release_bin("sprout-bench"))
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
