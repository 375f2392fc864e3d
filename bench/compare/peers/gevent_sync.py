"""gevent twins of Examples/Bench/SyncWorkloads.swift: same shapes, same units."""
import sys, time
import gevent
from gevent.pool import Pool
from gevent.queue import Channel, Queue


def queue_put_get(n, maxsize=None):
    queue = Queue(maxsize)

    def producer():
        for item in range(n):
            queue.put(item)

    def consumer():
        for _ in range(n):
            queue.get()

    start = time.perf_counter()
    gevent.joinall([gevent.spawn(producer), gevent.spawn(consumer)], raise_error=True)
    return n / (time.perf_counter() - start)


def channel_handoff(n):
    channel = Channel()

    def producer():
        for item in range(n):
            channel.put(item)

    def consumer():
        for _ in range(n):
            channel.get()

    start = time.perf_counter()
    gevent.joinall([gevent.spawn(producer), gevent.spawn(consumer)], raise_error=True)
    return n / (time.perf_counter() - start)


def pool_map(n):
    pool = Pool(100)
    start = time.perf_counter()
    results = pool.map(lambda item: item, range(n))
    assert len(results) == n
    return n / (time.perf_counter() - start)


if __name__ == "__main__":
    name, n = sys.argv[1], int(sys.argv[2])
    if name == "queue-put-get":
        value = queue_put_get(n, int(sys.argv[3]) if len(sys.argv) > 3 else None)
    elif name == "channel-handoff":
        value = channel_handoff(n)
    elif name == "pool-map":
        value = pool_map(n)
    else:
        sys.exit(f"unknown workload {name}")
    print(f"RESULT {value}")
