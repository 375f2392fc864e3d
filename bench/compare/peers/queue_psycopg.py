"""A job queue on PostgreSQL driven from Python with psycopg 3: the peer of Sprout's queue.

    queue_psycopg.py worker URL [async]
                                       claims 50 at a time (SKIP LOCKED), one batched completion
                                       with NOTIFY per claim; sleeps on LISTEN when the queue is empty;
                                       "async": its claims and completions do not wait for the disk
                                       (synchronous_commit = off, as Sprout's --async-answers)
    queue_psycopg.py bench URL JOBS [async]
                                       prints "jobs_per_s X" (JOBS tiny jobs submitted in batches of
                                       1,000 with NOTIFY, until every one is done) and
                                       "roundtrip_ms_median X" (one job, submit to done, 50 times);
                                       "async": submissions do not wait for the disk
                                       (synchronous_commit = off, as Sprout's --async-submissions)

What it measures against Sprout's queue (bench/compare/queue_compare.py runs both on one
server): the same end-to-end count (JOBS submitted in statements of 1,000 from one client,
every outcome told to that client by a done NOTIFY) and the same commit settings on both
sides of a row: claims never wait for the disk; durable: submissions and completions wait
for it (PostgreSQL's default); relaxed ("async"): neither does, the producer's and the
workers' sessions set synchronous_commit = off. Lighter than Sprout's by design, as a floor
for what PostgreSQL itself costs: a job is one int (the producer's generate_series makes the
rows on the server; Sprout sends each job as JSON), its worker computes n * n inline in the
claiming process (Sprout's host hands each job to a local pool process and reads its output
back), rows carry no job type, priority, lease or times, and the done NOTIFY carries ids only
(Sprout's carries short outputs, so its client reads nothing more).
"""
import select, statistics, sys, time

import psycopg

SCHEMA = """
CREATE TABLE IF NOT EXISTS py_jobs (id bigserial PRIMARY KEY, n int NOT NULL,
    state text NOT NULL DEFAULT 'available', result bigint);
CREATE INDEX IF NOT EXISTS py_jobs_available ON py_jobs (id) WHERE state = 'available';
"""
# A claim does not wait for the disk, as Sprout's does not: lost in a server crash, its jobs
# are simply available again.
CLAIM = """
WITH durability AS (SELECT set_config('synchronous_commit', 'off', true) AS setting),
picked AS (SELECT id FROM py_jobs WHERE state = 'available' ORDER BY id LIMIT 50 FOR UPDATE SKIP LOCKED)
UPDATE py_jobs SET state = 'running' FROM picked, durability WHERE py_jobs.id = picked.id RETURNING py_jobs.id, py_jobs.n
"""
COMPLETE = """
WITH done AS (UPDATE py_jobs SET state = 'done', result = r.result
              FROM unnest(%s::bigint[], %s::bigint[]) AS r(id, result) WHERE py_jobs.id = r.id RETURNING py_jobs.id)
SELECT pg_notify('py_done', string_agg(id::text, ',')) FROM done
"""


def worker(url, relaxed):
    with psycopg.connect(url, autocommit=True) as db, psycopg.connect(url, autocommit=True) as listener:
        if relaxed:
            db.execute("SET synchronous_commit = off")
        listener.execute("LISTEN py_available")
        while True:
            rows = db.execute(CLAIM).fetchall()
            if not rows:
                # Sleep until a producer notifies (or a second passes), then drain what came.
                select.select([listener.fileno()], [], [], 1.0)
                for _ in listener.notifies(timeout=0):
                    pass
                continue
            db.execute(COMPLETE, ([r[0] for r in rows], [r[1] * r[1] for r in rows]))


def wait_done(listener, wanted):
    """Reads py_done notifications until every id in `wanted` (a set) is done."""
    while wanted:
        for note in listener.notifies(timeout=30):
            wanted.difference_update(int(i) for i in note.payload.split(",") if i)
            if not wanted:
                return
        else:
            raise SystemExit(f"queue_psycopg: {len(wanted)} jobs never finished")


def bench(url, jobs, relaxed):
    with psycopg.connect(url, autocommit=True) as db, psycopg.connect(url, autocommit=True) as listener:
        if relaxed:
            db.execute("SET synchronous_commit = off")
        listener.execute("LISTEN py_done")
        start = time.perf_counter()
        wanted = set()
        for first in range(0, jobs, 1000):
            ids = db.execute("WITH j AS (INSERT INTO py_jobs (n) SELECT generate_series(%s::int, %s::int) RETURNING id) "
                             "SELECT id, pg_notify('py_available', '') FROM j",
                             (first, min(jobs, first + 1000) - 1)).fetchall()
            wanted.update(row[0] for row in ids)
        wait_done(listener, wanted)
        print(f"jobs_per_s {jobs / (time.perf_counter() - start):.1f}")
        trips = []
        for n in range(50):
            start = time.perf_counter()
            (job,) = db.execute("WITH j AS (INSERT INTO py_jobs (n) VALUES (%s) RETURNING id) "
                                "SELECT id FROM j, pg_notify('py_available', '')", (n,)).fetchone()
            wait_done(listener, {job})
            trips.append((time.perf_counter() - start) * 1000)
        print(f"roundtrip_ms_median {statistics.median(trips):.3f}")


if __name__ == "__main__":
    if sys.argv[1] == "setup":
        with psycopg.connect(sys.argv[2], autocommit=True) as db:
            db.execute(SCHEMA)
    elif sys.argv[1] == "worker":
        worker(sys.argv[2], sys.argv[3:] == ["async"])
    else:
        bench(sys.argv[2], int(sys.argv[3]), sys.argv[4:] == ["async"])
