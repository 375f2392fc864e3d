#!/usr/bin/env python3
"""The CPU-offload comparison of Examples/CPUOffload (cpu-offload), in Python.

The same workload (count the primes below SIZE by trial division, split into PIECES
ranges of equal cost, checksum over the per-piece counts), run in each mode for at least
DURATION seconds while a greenlet sleeps 10 ms at a time recording how late it wakes, and
a separate client process (this script with `client`) fetches from a gevent HTTP server at
RATE requests per second. Prints the same table as cpu-offload.

    python cpu_offload.py [--size N] [--pieces 8] [--workers 2] [--duration 5] [--rate 200]
                          [--modes inline,sleep0,threadpool,mp_pool,ppe] [--nice 10] [--rows FILE]
    python cpu_offload.py client URL RATE DURATION      (the load client; prints one LOAD line)

Modes: baseline (plain loop, no hub), inline (one greenlet, no switch within a round),
sleep0 (gevent.sleep(0) after each piece), threadpool (gevent's threadpool, WORKERS at a
time), mp_pool (multiprocessing.Pool.apply_async), ppe (ProcessPoolExecutor). Process
results reach the hub through loop.run_callback_threadsafe, so waiting never blocks it.
"""
import argparse
import collections
import math
import multiprocessing
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor

import gevent
import gevent.event
import gevent.pywsgi
import gevent.queue
import gevent.socket
import gevent.subprocess

LABELS = {
    "baseline": "baseline (no hub)",
    "inline": "gevent inline",
    "sleep0": "gevent + sleep(0)",
    "threadpool": "gevent threadpool",
    "mp_pool": "multiprocessing Pool",
    "ppe": "ProcessPoolExecutor",
}
REQUEST_TIMEOUT = 5.0


# -- the workload (the same algorithm, ranges and checksum as Examples/Support) ---------

def count_primes(lower, upper):
    count = 0
    for n in range(max(lower, 2), upper):
        if n < 4:
            count += 1
            continue
        if n & 1 == 0:
            continue
        d = 3
        prime = True
        while d * d <= n:
            if n % d == 0:
                prime = False
                break
            d += 2
        if prime:
            count += 1
    return count


def count_range(bounds):
    return count_primes(*bounds)


def piece_ranges(limit, pieces):
    limit = max(limit, 2)
    pieces = max(1, pieces)
    bounds = [0] + [int(limit * (i / pieces) ** (2.0 / 3.0)) for i in range(1, pieces)] + [limit]
    return [(bounds[i], bounds[i + 1]) for i in range(pieces)]


def checksum(counts):
    h = 0xCBF29CE484222325
    for count in counts:
        value = count & 0xFFFFFFFFFFFFFFFF
        for _ in range(8):
            h ^= value & 0xFF
            h = (h * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
            value >>= 8
    return h


def lower_priority(nice):
    if nice:
        os.nice(nice)


# -- measuring ----------------------------------------------------------------------------

def summary(samples):
    s = sorted(samples)
    if not s:
        return (0, 0, 0, 0)

    p50 = s[max(0, min(len(s) - 1, math.ceil(0.5 * len(s)) - 1))]
    p99 = s[max(0, min(len(s) - 1, math.ceil(0.99 * len(s)) - 1))]
    return (len(s), p50, p99, s[-1])


def proc_cpu_seconds(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except OSError:
        return 0.0


def self_cpu_seconds():
    t = os.times()
    return t.user + t.system


def load_text():
    return f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs"


def ms(ns):
    value = ns / 1e6
    if value < 1:
        return f"{value:.3f}"
    if value < 10:
        return f"{value:.2f}"
    if value < 100:
        return f"{value:.1f}"
    return f"{value:.0f}"


class Probe:
    """A greenlet that sleeps 10 ms at a time and records its lateness in ns."""

    def __init__(self):
        self.samples = []
        self.sleeping_since = None
        self.greenlet = gevent.spawn(self.run)

    def run(self):
        asked = 10_000_000
        while True:
            before = self.sleeping_since = time.monotonic_ns()
            gevent.sleep(0.010)
            self.sleeping_since = None
            slept = time.monotonic_ns() - before
            self.samples.append(max(0, slept - asked))

    def stop(self):
        # A wake-up still awaited counts if overdue: a hub too busy to wake the probe at all
        # must not look idle.
        if self.sleeping_since is not None:
            waited = time.monotonic_ns() - self.sleeping_since
            if waited > 10_000_000:
                self.samples.append(waited - 10_000_000)
        self.greenlet.kill()
        return summary(self.samples)


# -- the modes ------------------------------------------------------------------------------

def wait_threadsafe(submit, ranges):
    """Submits every piece through `submit(bounds, on_result)` and waits on the hub until
    all results arrived; results come back from other threads via run_callback_threadsafe."""
    loop = gevent.get_hub().loop
    counts = [None] * len(ranges)
    done = gevent.event.Event()
    remaining = [len(ranges)]

    def arrived(index, value):
        counts[index] = value
        remaining[0] -= 1
        if remaining[0] == 0:
            done.set()

    for index, bounds in enumerate(ranges):
        submit(bounds, lambda value, index=index: loop.run_callback_threadsafe(arrived, index, value))
    done.wait()
    return counts


def compute_round(mode, ranges, workers, pool):
    if mode == "inline":
        return [count_primes(*r) for r in ranges]
    if mode == "sleep0":
        counts = []
        for r in ranges:
            counts.append(count_primes(*r))
            gevent.sleep(0)
        return counts
    if mode == "threadpool":
        threadpool = gevent.get_hub().threadpool
        counts = [None] * len(ranges)
        queue = collections.deque(enumerate(ranges))

        def runner():
            while queue:
                index, r = queue.popleft()
                counts[index] = threadpool.apply(count_primes, r)
        gevent.joinall([gevent.spawn(runner) for _ in range(min(workers, len(ranges)))], raise_error=True)
        return counts
    if mode == "mp_pool":
        return wait_threadsafe(lambda r, cb: pool.apply_async(count_range, (r,), callback=cb), ranges)
    if mode == "ppe":
        return wait_threadsafe(lambda r, cb: pool.submit(count_range, r).add_done_callback(lambda f: cb(f.result())), ranges)
    raise ValueError(mode)


def make_pool(mode, workers, nice):
    context = multiprocessing.get_context("spawn")
    if mode == "mp_pool":
        pool = context.Pool(workers, initializer=lower_priority, initargs=(nice,))
        pool.map(count_range, [(0, 10)] * workers)  # all workers up before the clock starts
        return pool, [p.pid for p in pool._pool]
    if mode == "ppe":
        pool = ProcessPoolExecutor(workers, mp_context=context, initializer=lower_priority, initargs=(nice,))
        list(pool.map(count_range, [(0, 10)] * workers))
        return pool, list(pool._processes.keys())
    if mode == "threadpool":
        gevent.get_hub().threadpool.maxsize = max(gevent.get_hub().threadpool.maxsize, workers)
    return None, []


def run_baseline(ranges, duration):
    sums = set()
    rounds = 0
    cpu0 = self_cpu_seconds()
    start = time.monotonic()
    while True:
        sums.add(checksum([count_primes(*r) for r in ranges]))
        rounds += 1
        if time.monotonic() - start >= duration:
            break
    wall = time.monotonic() - start
    return dict(mode="baseline", rounds=rounds, wall=wall / rounds, cpu=(self_cpu_seconds() - cpu0) / rounds,
                checksum=sums.pop() if len(sums) == 1 else None, late=None, http=None)


def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "3")])
    return [b"ok\n"]


def run_mode(mode, ranges, args):
    pool, pids = make_pool(mode, args.workers, args.nice)
    server = gevent.pywsgi.WSGIServer(("127.0.0.1", 0), app, log=None, error_log=None)
    server.start()
    url = f"http://127.0.0.1:{server.server_port}/"
    client = gevent.subprocess.Popen([sys.executable, os.path.abspath(__file__), "client", url, str(args.rate), str(args.duration)],
                                     stdout=gevent.subprocess.PIPE, stderr=gevent.subprocess.PIPE)
    probe = Probe()

    def cpu_now():
        return self_cpu_seconds() + sum(proc_cpu_seconds(pid) for pid in pids)
    sums = set()
    rounds = 0
    cpu0 = cpu_now()
    start = time.monotonic()
    while True:
        sums.add(checksum(compute_round(mode, ranges, args.workers, pool)))
        rounds += 1
        gevent.sleep(0)
        if time.monotonic() - start >= args.duration:
            break
    wall = time.monotonic() - start
    cpu = cpu_now() - cpu0
    late = probe.stop()
    http = None
    out, err = client.communicate()
    for line in out.decode().splitlines():
        if line.startswith("LOAD "):
            http = [int(x) for x in line.split()[1:]]
    if http is None:
        print(f"the HTTP load client failed ({client.returncode}): {err.decode()[-500:]}")
    server.stop(timeout=1)
    if mode == "mp_pool":
        pool.close()
        pool.join()
    elif mode == "ppe":
        pool.shutdown()
    return dict(mode=mode, rounds=rounds, wall=wall / rounds, cpu=cpu / rounds,
                checksum=sums.pop() if len(sums) == 1 else None, late=late, http=http)


# -- the load client --------------------------------------------------------------------------

def load_client(url, rate, duration):
    host, port = url.split("//")[1].split("/")[0].split(":")
    address = (host, int(port))
    idle = gevent.queue.Queue()
    latencies = []
    request = f"GET / HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()

    def fetch(due):
        sock = None
        try:
            with gevent.Timeout(REQUEST_TIMEOUT):
                sock = idle.get_nowait() if not idle.empty() else gevent.socket.create_connection(address)
                sock.sendall(request)
                data = b""
                while b"\r\n\r\n" not in data:
                    chunk = sock.recv(4096)
                    if not chunk:
                        raise ConnectionError("closed")
                    data += chunk
                head, body = data.split(b"\r\n\r\n", 1)
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                while len(body) < length:
                    chunk = sock.recv(4096)
                    if not chunk:
                        raise ConnectionError("closed")
                    body += chunk
                if not head.startswith(b"HTTP/1.1 200"):
                    raise ConnectionError(head[:40])
            latencies.append(time.monotonic_ns() - due)
            idle.put(sock)
        except (Exception, gevent.Timeout):
            if sock is not None:
                sock.close()

    total = max(1, int(rate * duration))
    start = time.monotonic_ns()
    greenlets = []
    for index in range(total):
        due = start + int(index / rate * 1e9)
        now = time.monotonic_ns()
        if due > now:
            gevent.sleep((due - now) / 1e9)
        greenlets.append(gevent.spawn(fetch, due))
    gevent.joinall(greenlets)
    count, p50, p99, worst = summary(latencies)
    print(f"LOAD {total} {count} {p50} {p99} {worst}")


# -- the report ---------------------------------------------------------------------------

def table(rows):
    base = next((r for r in rows if r["mode"] == "baseline"), None)
    header = ["mode", "rounds", "wall/round", "speedup", "CPU/round", "hub wakes", "late p50", "p99", "max", "HTTP ok/sent", "HTTP p99", "checksum"]
    lines = [header]
    for r in rows:
        late, http = r["late"], r["http"]
        lines.append([
            LABELS[r["mode"]], str(r["rounds"]), f"{r['wall']:.3f} s",
            f"{base['wall'] / r['wall']:.2f}x" if base else "-", f"{r['cpu']:.3f} s",
            str(late[0]) if late else "-", f"{ms(late[1])} ms" if late else "-", f"{ms(late[2])} ms" if late else "-", f"{ms(late[3])} ms" if late else "-",
            f"{http[1]}/{http[0]}" if http else ("failed" if r["mode"] != "baseline" else "-"),
            f"{ms(http[3])} ms" if http else "-",
            f"{r['checksum']:016x}" if r["checksum"] is not None else "DIFFERS",
        ])
    widths = [max(len(line[c]) for line in lines) for c in range(len(header))]
    out = []
    for i, line in enumerate(lines):
        text = "  ".join(cell.ljust(widths[c]) if c == 0 else cell.rjust(widths[c]) for c, cell in enumerate(line))
        out.append(text)
        if i == 0:
            out.append("-" * len(text))
    return "\n".join(out)


def verdict(rows):
    base = next(r for r in rows if r["mode"] == "baseline")
    lines = []
    sums = {r["checksum"] for r in rows}
    lines.append(f"Every mode computed the same answer (checksum {sums.pop():016x})." if len(sums) == 1 and None not in sums
                 else "The modes did NOT all compute the same answer.")
    for r in rows:
        if r["late"] is None:
            continue
        speedup = base["wall"] / r["wall"]
        responsive = r["late"][2] < 1_000_000 and r["late"][3] < 5_000_000
        lines.append(f"{LABELS[r['mode']]}: {speedup:.2f}x, hub p99 {ms(r['late'][2])} ms, worst {ms(r['late'][3])} ms"
                     f"{', HTTP p99 ' + ms(r['http'][3]) + ' ms' if r['http'] else ''} — "
                     f"{'parallel' if speedup >= 1.5 else 'one core'}, {'responsive' if responsive else 'the hub was late'}.")
    return lines


def main():
    if len(sys.argv) == 5 and sys.argv[1] == "client":
        load_client(sys.argv[2], float(sys.argv[3]), float(sys.argv[4]))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=200_000)
    parser.add_argument("--pieces", type=int, default=8)
    parser.add_argument("--workers", type=int, default=os.cpu_count())
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--modes", default="inline,sleep0,threadpool,mp_pool,ppe")
    parser.add_argument("--nice", type=int, default=10)
    parser.add_argument("--rows", help="also write the rows as tab-separated values here")
    args = parser.parse_args()
    modes = [m.strip() for m in args.modes.split(",") if m.strip() and m.strip() != "baseline"]
    for m in modes:
        if m not in LABELS:
            parser.error(f"unknown mode {m!r}; choose from {', '.join(LABELS)}")
    ranges = piece_ranges(args.size, args.pieces)
    print(f"Counting the primes below {args.size} in {len(ranges)} pieces, each mode for at least {args.duration:.1f} s, "
          f"with {args.workers} workers (pool workers at nice {args.nice}).\nMeanwhile a greenlet sleeps 10 ms at a time, "
          f"and a separate process fetches from a gevent WSGI server {int(args.rate)} times a second.\n"
          f"Machine: {load_text()} before the run.\n", flush=True)
    rows = []
    for mode in ["baseline"] + modes:
        print(f"  {LABELS[mode]}...", flush=True)
        rows.append(run_baseline(ranges, args.duration) if mode == "baseline" else run_mode(mode, ranges, args))
    print("\n" + table(rows) + f"\n(machine: {load_text()} after the run)\n")
    for line in verdict(rows):
        print(line)
    if args.rows:
        write_rows(args.rows, rows)


def write_rows(path, rows):
    base = next(r for r in rows if r["mode"] == "baseline")
    with open(path, "w") as f:
        for r in rows:
            late = r["late"] or (0, 0, 0, 0)
            http = r["http"] or (0, 0, 0, 0, 0)
            f.write("\t".join(str(x) for x in [
                LABELS[r["mode"]], f"{base['wall'] / r['wall']:.2f}", f"{r['cpu']:.3f}", late[2], late[3],
                http[1], http[0], http[3], f"{r['checksum']:016x}" if r["checksum"] is not None else "DIFFERS"]) + "\n")


if __name__ == "__main__":
    main()
