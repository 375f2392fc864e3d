#!/usr/bin/env python3
"""What announcing a host's answers costs the server: the done NOTIFY of QueueWorker's answer
statement, with the lines cut into payloads by a running sum over them and sorted by id (as
JobQueueSchema.notifyDone(from:) does; "old") and with the payload of each line given
(notifyDone(chunked:); "new"), against the same statement announcing nothing ("none"), for
batches of 500 and 100 tiny answers (ids of 7 digits, outputs of 13), 200 runs of each, five
rounds, rolled back. Prints the median and min of the client's time per answer; the
difference from "none" is what the announcement costs.

    bench/compare/.venv-queue/bin/python bench/compare/queue_notify_cost.py

(the venv bench/compare/queue_compare.py makes; starts its own PostgreSQL).
"""
import os, subprocess, time, statistics, psycopg
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
directory, url = subprocess.run(["bash", "-c", f"source scripts/lib/postgres.sh && postgres_start {os.getpid()} && echo $POSTGRES_DIR $POSTGRES_URL"],
                                cwd=ROOT, check=True, capture_output=True, text=True).stdout.split()
entry = "id::text || CASE WHEN state = 'succeeded' AND octet_length(result) <= 200 AND strpos(result, E'\\n') = 0 THEN ' ' || result ELSE '' END"
base = "SELECT g AS id, 'succeeded'::text AS state, (g*g)::text AS result, ((g - 1000000) * 24 / 7000)::int AS chunk FROM generate_series(1000000::bigint, 1000000 + %s::int - 1) g"
old = f"""WITH done AS MATERIALIZED ({base}) SELECT count(*) AS sent FROM (
    SELECT pg_notify('x', string_agg(entry, E'\\n' ORDER BY id)) FROM (
        SELECT id, entry, sum(octet_length(entry) + 1) OVER (ORDER BY id) / 7000 AS chunk FROM (
            SELECT id, {entry} AS entry FROM done) AS finished
    ) AS lines GROUP BY chunk) AS notes"""
new = f"""WITH done AS MATERIALIZED ({base}) SELECT count(*) AS sent FROM (
    SELECT pg_notify('x', string_agg({entry}, E'\\n')) FROM done GROUP BY chunk) AS notes"""
none = f"""WITH done AS MATERIALIZED ({base}) SELECT count(*) FROM done"""
try:
    with psycopg.connect(url) as db:
        db.execute("SET plan_cache_mode = force_generic_plan")
        for n in (500, 100):
            res = {}
            for _ in range(5):
                for name, q in (("old", old), ("new", new), ("none", none)):
                    t = time.perf_counter()
                    for _ in range(200):
                        db.execute(q, (n,), prepare=True)
                        db.rollback()
                    res.setdefault(name, []).append((time.perf_counter() - t) / 200 / n * 1e6)
            print(f"{n} answers:", ", ".join("%s %.2f µs/answer (min %.2f)" % (k, statistics.median(v), min(v)) for k, v in res.items()))
finally:
    subprocess.run(["bash", "-c", f"source scripts/lib/postgres.sh && POSTGRES_DIR={directory} postgres_stop"], cwd=ROOT)
