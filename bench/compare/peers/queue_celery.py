"""Celery with Redis as broker and result backend: the peer of Sprout's queue.

    celery -A queue_celery worker -c 2        two prefork worker processes (the harness runs it)
    queue_celery.py bench JOBS                prints "jobs_per_s X" (JOBS tiny tasks sent with
                                              apply_async, then every result read) and
                                              "roundtrip_ms_median X" (apply_async(...).get(), 50 times)
"""
import os, statistics, sys, time

from celery import Celery

BROKER = os.environ.get("QUEUE_REDIS", "redis://127.0.0.1:6390/0")
app = Celery("queue_celery", broker=BROKER, backend=BROKER)
app.conf.update(task_ignore_result=False, worker_prefetch_multiplier=50, broker_connection_retry_on_startup=True)


@app.task
def square(n):
    return n * n


def bench(jobs):
    start = time.perf_counter()
    results = [square.apply_async((n,)) for n in range(jobs)]
    for n, result in enumerate(results):
        if result.get(timeout=120) != n * n:
            raise SystemExit(f"queue_celery: wrong result for {n}")
    print(f"jobs_per_s {jobs / (time.perf_counter() - start):.1f}")
    trips = []
    for n in range(50):
        start = time.perf_counter()
        square.apply_async((n,)).get(timeout=30)
        trips.append((time.perf_counter() - start) * 1000)
    print(f"roundtrip_ms_median {statistics.median(trips):.3f}")


if __name__ == "__main__":
    bench(int(sys.argv[2]))
