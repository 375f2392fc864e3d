"""multiprocessing.Pool / ProcessPoolExecutor twins of Sprout's process workloads.

    python mp_pool.py ready spawn|fork
    python mp_pool.py roundtrip N
    python mp_pool.py map N CHUNK        (CHUNK 0: multiprocessing's default chunking)
    python mp_pool.py ppe-map N
    python mp_pool.py primes LIMIT [even]   (even: pieces of equal cost, as in Sprout's)
    python mp_pool.py primes-cost LIMIT [even]   (no pool: the pieces' division counts)

Each prints 'RESULT <number>' in the unit of the matching Sprout workload
(Examples/BenchPool/ProcessWorkloads.swift), measuring the same state:
  ready       ms from creating a 2-worker pool until both workers have started (each
              signals from its initializer, as each Sprout worker says hello) and one no-op
              task has come back: ProcessPool(workers: 2) returns once all are ready.
  roundtrip   µs per apply of a no-op on a 1-worker fork pool, after 200 warm-up applies.
  map         tasks/s of Pool(2).map over N integers (a doubling function), timed once both
              workers are ready (as Sprout's are when its map starts); the list is built
              inside the timer here and before it in Sprout: range is lazy, jobs are not.
  ppe-map     the same with ProcessPoolExecutor(2).map (chunksize 1, its default).
  primes      serial time over parallel time for 8 pieces of a prime count on 2 workers
              (fork pool started and ready before the parallel timer starts).
  primes-cost not a benchmark: prints the trial divisions each of the 8 pieces costs
              (count_primes's loop, counted from smallest prime factors, not run) and the
              best speedup any 2-worker pool taking the pieces in order can reach.
"""
import multiprocessing as mp
import sys
import time
from concurrent.futures import ProcessPoolExecutor


def noop():
    return 0


def announce(started):
    started.release()


def ready_pool(ctx, workers):
    """A Pool of `workers` processes, returned once every one has run its initializer."""
    started = ctx.Semaphore(0)
    pool = ctx.Pool(workers, initializer=announce, initargs=(started,))
    for _ in range(workers):
        if not started.acquire(timeout=30):
            raise SystemExit("a worker did not start within 30 s")
    return pool


def double(value):
    return value * 2


def count_primes(bounds):
    lower, upper = bounds
    count = 0
    for candidate in range(max(lower, 2), upper):
        divisor = 2
        prime = True
        while divisor * divisor <= candidate:
            if candidate % divisor == 0:
                prime = False
                break
            divisor += 1
        if prime:
            count += 1
    return count


def prime_pieces(limit, even):
    """The 8 (lower, upper) pieces of the primes workload below `limit`."""
    if even:
        bound = lambda k: int(limit * (k / 8) ** (2 / 3))
    else:
        bound = lambda k: limit * k // 8
    return [(bound(i), bound(i + 1)) for i in range(8)]


def division_counts(limit, pieces):
    """How many `%` count_primes runs for each piece: a composite stops at its smallest
    prime factor p (p - 1 divisions), a prime at its integer square root (isqrt - 1)."""
    smallest = [0] * limit
    for p in range(2, int(limit ** 0.5) + 1):
        if smallest[p] == 0:
            for multiple in range(p * p, limit, p):
                if smallest[multiple] == 0:
                    smallest[multiple] = p
    import math
    return [sum(smallest[n] - 1 if smallest[n] else max(0, math.isqrt(n) - 1)
                for n in range(max(lower, 2), upper)) for lower, upper in pieces]


def in_order_ceiling(costs, workers=2):
    """Total cost over the finish time when each free worker takes the next piece."""
    free = [0] * workers
    for cost in costs:
        first = free.index(min(free))
        free[first] += cost
    return sum(costs) / max(free)


def main():
    what = sys.argv[1]
    if what == "ready":
        ctx = mp.get_context(sys.argv[2])
        start = time.perf_counter()
        pool = ready_pool(ctx, 2)
        pool.apply(noop)
        result = (time.perf_counter() - start) * 1000
        pool.terminate()
    elif what == "roundtrip":
        count = int(sys.argv[2])
        with ready_pool(mp.get_context("fork"), 1) as pool:
            for _ in range(200):
                pool.apply(noop)
            start = time.perf_counter()
            for _ in range(count):
                pool.apply(noop)
            result = (time.perf_counter() - start) / count * 1e6
    elif what == "map":
        count, chunk = int(sys.argv[2]), int(sys.argv[3])
        with ready_pool(mp.get_context("fork"), 2) as pool:
            start = time.perf_counter()
            out = pool.map(double, range(count), chunksize=chunk or None)
            result = count / (time.perf_counter() - start)
            assert len(out) == count
    elif what == "ppe-map":
        count = int(sys.argv[2])
        ctx = mp.get_context("fork")
        started = ctx.Semaphore(0)
        with ProcessPoolExecutor(2, mp_context=ctx, initializer=announce, initargs=(started,)) as pool:
            # Two submissions start both workers (whether it starts them lazily or not).
            for future in [pool.submit(noop) for _ in range(2)]:
                future.result()
            for _ in range(2):
                if not started.acquire(timeout=30):
                    raise SystemExit("a worker did not start within 30 s")
            start = time.perf_counter()
            out = list(pool.map(double, range(count)))
            result = count / (time.perf_counter() - start)
            assert len(out) == count
    elif what == "primes-cost":
        limit = int(sys.argv[2])
        costs = division_counts(limit, prime_pieces(limit, sys.argv[3:] == ["even"]))
        print("divisions per piece: " + ", ".join(f"{cost / 1e6:.1f} M" for cost in costs))
        result = in_order_ceiling(costs)
    elif what == "primes":
        limit = int(sys.argv[2])
        pieces = prime_pieces(limit, sys.argv[3:] == ["even"])
        start = time.perf_counter()
        serial = sum(map(count_primes, pieces))
        serial_seconds = time.perf_counter() - start
        with ready_pool(mp.get_context("fork"), 2) as pool:
            start = time.perf_counter()
            parallel = sum(pool.map(count_primes, pieces, chunksize=1))
            seconds = time.perf_counter() - start
        assert serial == parallel
        result = serial_seconds / seconds
    else:
        raise SystemExit(f"unknown workload {what}")
    print(f"RESULT {result}")


if __name__ == "__main__":
    main()
