"""gevent twins of Examples/Bench/HubWorkloads.swift: same shapes, same units.

What each measures (the Sprout twin measures the same state the same way):
  spawn-join N      µs per greenlet, wall time from the first spawn until joinall of N
                    trivial greenlets returns (spawning, running and joining; no warm-up on
                    either side: each run is one fresh process).
  ping-pong N       switches/s, two greenlets each doing sleep(0) N times, timed from their
                    spawn until both are joined.
  sleepers N        RSS bytes per greenlet: RSS once all N greenlets have started and sleep
                    (counted, not guessed with a pause: gevent needs seconds to start 100k)
                    minus RSS before the first spawn, divided by N.
  live-greenlets N  total RSS in MB of the process once all N greenlets have started and sleep.
"""
import sys, time
import gevent


def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096


def spawn_join(n):
    start = time.perf_counter()
    greenlets = [gevent.spawn(lambda i=i: i) for i in range(n)]
    gevent.joinall(greenlets)
    elapsed = time.perf_counter() - start
    # Counted after the clock, as the Sprout twin does: a greenlet's value is its index only
    # if its body ran (one killed before its turn has a GreenletExit instead).
    ran = sum(1 for g in greenlets if isinstance(g.value, int))
    if ran != n:
        sys.exit(f"spawn-join: {ran} of {n} greenlets ran their body")
    return elapsed / n * 1e6


def ping_pong(rounds):
    def player():
        for _ in range(rounds):
            gevent.sleep(0)
    start = time.perf_counter()
    gevent.joinall([gevent.spawn(player), gevent.spawn(player)])
    return 2 * rounds / (time.perf_counter() - start)


def spawn_sleepers(n):
    """Spawns n greenlets that sleep an hour; returns once every one has reached its sleep."""
    asleep = [0]

    def sleeper():
        asleep[0] += 1  # gevent.sleep below switches to the hub before any other greenlet runs
        gevent.sleep(3600)

    greenlets = [gevent.spawn(sleeper) for _ in range(n)]
    while asleep[0] < n:
        gevent.sleep(0.01)
    return greenlets


def sleepers(n):
    before = rss()
    greenlets = spawn_sleepers(n)
    after = rss()
    gevent.killall(greenlets)
    return (after - before) / n


def live_greenlets(n):
    greenlets = spawn_sleepers(n)
    total = rss() / 1048576
    gevent.killall(greenlets)
    return total


WORKLOADS = {"spawn-join": spawn_join, "ping-pong": ping_pong, "sleepers": sleepers,
             "live-greenlets": live_greenlets}

if __name__ == "__main__":
    print("RESULT", WORKLOADS[sys.argv[1]](int(sys.argv[2])))
