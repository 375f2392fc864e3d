"""multiprocessing.Pool / ProcessPoolExecutor twins of Sprout's process workloads.

    python mp_pool.py ready spawn|fork
    python mp_pool.py roundtrip N
    python mp_pool.py map N CHUNK        (CHUNK 0: multiprocessing's default chunking)
    python mp_pool.py ppe-map N
    python mp_pool.py primes LIMIT [even]   (even: pieces of equal cost, as in Sprout's)

Each prints 'RESULT <number>' in the unit of the matching Sprout workload.
"""
import multiprocessing as mp
import sys
import time
from concurrent.futures import ProcessPoolExecutor


def noop():
    return 0


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


def main():
    what = sys.argv[1]
    if what == "ready":
        ctx = mp.get_context(sys.argv[2])
        start = time.perf_counter()
        pool = ctx.Pool(2)
        pool.apply(noop)
        result = (time.perf_counter() - start) * 1000
        pool.terminate()
    elif what == "roundtrip":
        count = int(sys.argv[2])
        with mp.get_context("fork").Pool(1) as pool:
            for _ in range(200):
                pool.apply(noop)
            start = time.perf_counter()
            for _ in range(count):
                pool.apply(noop)
            result = (time.perf_counter() - start) / count * 1e6
    elif what == "map":
        count, chunk = int(sys.argv[2]), int(sys.argv[3])
        with mp.get_context("fork").Pool(2) as pool:
            pool.apply(noop)
            start = time.perf_counter()
            out = pool.map(double, range(count), chunksize=chunk or None)
            result = count / (time.perf_counter() - start)
            assert len(out) == count
    elif what == "ppe-map":
        count = int(sys.argv[2])
        with ProcessPoolExecutor(2, mp_context=mp.get_context("fork")) as pool:
            pool.submit(noop).result()
            start = time.perf_counter()
            out = list(pool.map(double, range(count)))
            result = count / (time.perf_counter() - start)
            assert len(out) == count
    elif what == "primes":
        limit = int(sys.argv[2])
        if sys.argv[3:] == ["even"]:
            bound = lambda k: int(limit * (k / 8) ** (2 / 3))
        else:
            bound = lambda k: limit * k // 8
        pieces = [(bound(i), bound(i + 1)) for i in range(8)]
        start = time.perf_counter()
        serial = sum(map(count_primes, pieces))
        serial_seconds = time.perf_counter() - start
        with mp.get_context("fork").Pool(2) as pool:
            pool.apply(noop)
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
