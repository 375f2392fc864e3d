"""gevent twins of Examples/Bench/HubWorkloads.swift: same shapes, same units."""
import sys, time
import gevent


def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096


def spawn_join(n):
    start = time.perf_counter()
    greenlets = [gevent.spawn(lambda i=i: i) for i in range(n)]
    gevent.joinall(greenlets)
    return (time.perf_counter() - start) / n * 1e6


def ping_pong(rounds):
    def player():
        for _ in range(rounds):
            gevent.sleep(0)
    start = time.perf_counter()
    gevent.joinall([gevent.spawn(player), gevent.spawn(player)])
    return 2 * rounds / (time.perf_counter() - start)


def sleepers(n):
    before = rss()
    greenlets = [gevent.spawn(gevent.sleep, 3600) for _ in range(n)]
    gevent.sleep(0.2)
    after = rss()
    gevent.killall(greenlets)
    return (after - before) / n


def live_greenlets(n):
    greenlets = [gevent.spawn(gevent.sleep, 3600) for _ in range(n)]
    gevent.sleep(0.5)
    total = rss() / 1048576
    gevent.killall(greenlets)
    return total


WORKLOADS = {"spawn-join": spawn_join, "ping-pong": ping_pong, "sleepers": sleepers,
             "live-greenlets": live_greenlets}

if __name__ == "__main__":
    print("RESULT", WORKLOADS[sys.argv[1]](int(sys.argv[2])))
