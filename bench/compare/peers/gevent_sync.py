"""gevent twins of Examples/Bench/SyncWorkloads.swift: same shapes, same units.

What each measures (timed from spawning the greenlets until they are joined, on both sides):
  queue-put-get N [MAXSIZE]  items/s from a producer to a consumer greenlet through a Queue.
                             Unbounded, the producer puts all N before the consumer runs, so it
                             measures the queue's own cost per put and get; with MAXSIZE the
                             two alternate every MAXSIZE items.
  channel-handoff N          items/s through a Channel (no buffer): every item is a switch.
  pool-map N                 items/s of Pool(100).map over N items with an identity function.
"""
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
