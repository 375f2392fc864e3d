#!/usr/bin/env python3
"""Measures one TCP echo server with the shared C load client (echo_client.c):
starts the server command (which prints 'PORT <n>' on its first line of stdout),
runs the client against it, reads the server's CPU time (utime + stime of all its
threads, /proc/<pid>/stat) around the client run, stops the server with SIGTERM.

    echo_bench.py --metric cpu|rate [--clients 100 --rounds 1000 --size 64] -- SERVER ARGV...

Prints 'RESULT <x>': server CPU microseconds per round trip (cpu) or round trips per
second (rate), plus a 'DETAIL' line with both and the CPU time split into user and kernel.

What is measured, alike for every server: the server's CPU time from just before the client
starts until it exits, so it covers accepting the 100 connections (made before the client's
own timer starts) as well as the 100,000 round trips, and a JIT (Node's) warming up during
the run; the rate is the client's own (its timer starts after all connections are made).
"""
import argparse, os, signal, subprocess, sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from compare import c_program  # noqa: E402  (compare.py is one folder up)


def cpu_ticks(pid):
    """(user, kernel) clock ticks of all the process's threads."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]), int(fields[12])  # utime, stime (fields 14 and 15)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--metric", choices=["cpu", "rate"], required=True)
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=1000)
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("server", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    server_argv = args.server[1:] if args.server[:1] == ["--"] else args.server
    client = c_program("echo_client")
    server = subprocess.Popen(server_argv, stdout=subprocess.PIPE, text=True)
    try:
        line = server.stdout.readline()
        if not line.startswith("PORT "):
            raise SystemExit(f"server did not print its port: {line!r}")
        port = line.split()[1]
        hz = os.sysconf("SC_CLK_TCK")
        before = cpu_ticks(server.pid)
        out = subprocess.run([client, port, str(args.clients), str(args.rounds), str(args.size)],
                             check=True, capture_output=True, text=True, timeout=600).stdout
        after = cpu_ticks(server.pid)
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    fields = out.split()
    trips, seconds = int(fields[1]), float(fields[3])
    user_us, kernel_us = ((a - b) / hz * 1e6 / trips for a, b in zip(after, before))
    cpu_us = user_us + kernel_us
    rate = trips / seconds
    print(f"DETAIL round trips/s {rate:.0f}, server CPU {cpu_us:.2f} us per round trip "
          f"({user_us:.2f} user, {kernel_us:.2f} kernel)")
    print(f"RESULT {cpu_us if args.metric == 'cpu' else rate}")


if __name__ == "__main__":
    main()
