#!/usr/bin/env python3
"""Runs one side of an HTTP benchmark against a server in a separate process.

    http_bench.py fetch SERVER -- CLIENT_ARGV...   start SERVER, run the client (its argv may
                                                   use {url}), print the client's RESULT line
    http_bench.py wrk SERVER [wrk options...]      start SERVER, run wrk against it, print
                                                   RESULT <requests/s>

SERVER is one of: node, uvloop, sprout:<path to sprout-bench>. Every client of one table row
meets the same server program, started fresh on a free loopback port, so rows compare clients.

Measures: for fetch, the client's own RESULT (requests/s, timed by the client from its first
request to its last answer); for wrk, wrk's Requests/sec over its run (keep-alive unless the
options add `Connection: close`). Before either, every server gets the same 1 s of wrk
warm-up (Node's JIT, the server's caches), so no side is measured cold.
"""
import os, re, socket, subprocess, sys, time

HERE = os.path.dirname(os.path.abspath(__file__))


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(kind, port):
    if kind == "node":
        argv = ["node", os.path.join(HERE, "http_server_node.js"), str(port)]
    elif kind == "uvloop":
        argv = [sys.executable, os.path.join(HERE, "http_server_uvloop.py"), str(port)]
    elif kind.startswith("sprout:"):
        argv = [kind[len("sprout:"):], "http-serve", str(port)]
    else:
        sys.exit(f"unknown server {kind}")
    server = subprocess.Popen(argv, stdout=subprocess.DEVNULL)
    deadline = time.time() + 10
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return server
        except OSError:
            time.sleep(0.05)
    server.kill()
    sys.exit(f"server {kind} did not start")


def stop_server(server):
    server.terminate()
    try:
        server.wait(5)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def main():
    mode, kind, rest = sys.argv[1], sys.argv[2], sys.argv[3:]
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    server = start_server(kind, port)
    try:
        # A warm server (Node's JIT, caches) for every client alike.
        subprocess.run(["wrk", "-t1", "-c50", "-d1s", url], capture_output=True, timeout=30)
        if mode == "fetch":
            argv = [a.replace("{url}", url) for a in (rest[1:] if rest[:1] == ["--"] else rest)]
            out = subprocess.run(argv, capture_output=True, text=True, timeout=240)
            sys.stderr.write(out.stderr[-2000:])
            results = [l for l in out.stdout.splitlines() if l.startswith("RESULT ")]
            if out.returncode != 0 or not results:
                sys.exit(f"client failed ({out.returncode}): {out.stdout[-1000:]}")
            print(results[-1])
        elif mode == "wrk":
            out = subprocess.run(["wrk", *rest, url], capture_output=True, text=True, timeout=240)
            match = re.search(r"Requests/sec:\s+([\d.]+)", out.stdout)
            errors = re.search(r"Non-2xx or 3xx responses: (\d+)|Socket errors: (.*)", out.stdout)
            if not match:
                sys.exit(f"wrk failed: {out.stdout}{out.stderr}")
            if errors:
                sys.stderr.write(f"wrk: {errors.group(0)}\n")
            print(f"RESULT {match.group(1)}")
        else:
            sys.exit(f"unknown mode {mode}")
    finally:
        stop_server(server)


if __name__ == "__main__":
    main()
