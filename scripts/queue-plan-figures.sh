#!/usr/bin/env bash
# Measures the figures docs/JobQueue.md gives for the claim statement's planning, the
# ANALYZE a large submission runs, and a WAL flush, on a throw-away PostgreSQL:
#
#   swift build --build-tests && bash scripts/queue-plan-figures.sh
#
# The schema is made by the library itself (the test queue host, sprout-queue-worker,
# migrates it when it starts); the claim is the statement docs/JobQueue.md shows, with its
# parameters written in (job type 'Square', 100 jobs, a 30 s lease). Each EXPLAIN ANALYZE
# runs in a transaction rolled back, so every run claims from the same rows. Prints one line
# per figure; timings vary with the machine's load: say the load when you quote them.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/postgres.sh
bin="$(swift build --show-bin-path)"
postgres_start
trap postgres_stop EXIT
sql() { psql -X -q -A -t -d "$POSTGRES_URL" -v ON_ERROR_STOP=1 "$@"; }

# The host waits on its standard input (its end means the test is gone): a FIFO held open here.
mkfifo "$POSTGRES_DIR/host-input"
"$bin/sprout-queue-worker" "$POSTGRES_URL" 1 30 <"$POSTGRES_DIR/host-input" >/dev/null 2>&1 &
host=$!
exec {hold}>"$POSTGRES_DIR/host-input"
for _ in $(seq 100); do
    [ "$(sql -c "SELECT to_regclass('sprout_jobs') IS NOT NULL AND EXISTS (SELECT FROM sprout_schema)" 2>/dev/null)" = t ] && break
    sleep 0.1
done
kill -TERM "$host"
wait "$host" || true
exec {hold}>&-

claim="
WITH durability AS (SELECT set_config('synchronous_commit', 'off', true)),
picked AS (
    SELECT id FROM sprout_jobs
    WHERE state = 'available' AND job_type = ANY('{Square}'::text[])
    ORDER BY priority DESC, id LIMIT 100 FOR UPDATE SKIP LOCKED
), claimed AS (
    UPDATE sprout_jobs AS job
    SET state = 'running', attempts = job.attempts + 1, lease_token = gen_random_uuid(),
        lease_expires_at = now() + make_interval(secs => 30), worker = 'figures', started_at = now()
    WHERE job.id = ANY(ARRAY(SELECT id FROM picked))
    RETURNING job.id, job.job_type, job.payload, job.lease_token, job.timeout_seconds, job.retries, job.priority
)
SELECT claimed.* FROM claimed, durability ORDER BY claimed.priority DESC, claimed.id"

# Five claims of 100 (each a transaction rolled back): planning and execution ms, and how
# the jobs were picked: the largest sort in the plan reads the 100 claimed (the claim index
# walked) or every available row (all read and sorted). A sort's own "Actual Rows" counts
# the rows it gave, 100 either way (the claim's LIMIT stops there): the rows it read are those
# of its input.
claims() {
    local runs=()
    for _ in 1 2 3 4 5; do
        runs+=("$(sql -c "BEGIN" -c "EXPLAIN (ANALYZE, FORMAT JSON) $claim" -c "ROLLBACK" | python3 -c '
import json, sys
plan = json.loads(sys.stdin.read())[0]
def nodes(node):
    yield node
    for child in node.get("Plans", []):
        yield from nodes(child)
sorts = [sum(c["Actual Rows"] * c["Actual Loops"] for c in n.get("Plans", []) if c.get("Parent Relationship") == "Outer")
         for n in nodes(plan["Plan"]) if n["Node Type"] == "Sort"]
picked = "largest sort read %d rows" % max(sorts) if sorts else "no sort"
print("%.2f/%.2f (%s)" % (plan["Planning Time"], plan["Execution Time"], picked))')")
    done
    printf '%s, ' "${runs[@]}"
    echo
}
# Milliseconds a statement takes, by psql's \timing.
timed() { sql -c '\timing on' -c "$1" | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | tail -1; }
insert() { sql -c "INSERT INTO sprout_jobs (job_type, payload) SELECT 'Square', '1' FROM generate_series(1, $1)"; }

echo "claim of 100, 5,000 queued, no statistics yet: planning/execution ms: $(insert 5000; claims)"
# Statistics that predate the submission (an autovacuum ANALYZE of the empty table): the
# planner takes the queued jobs for none.
sql -c "DELETE FROM sprout_jobs" -c "ANALYZE sprout_jobs"
insert 5000
echo "claim of 100, 5,000 queued, statistics of the empty table: planning/execution ms: $(claims)"
echo "ANALYZE (state, job_type, priority), target 10, 5,000 rows: $(timed "SET default_statistics_target = 10; ANALYZE sprout_jobs (state, job_type, priority)") ms"
echo "claim of 100, 5,000 queued, after that ANALYZE: planning/execution ms: $(claims)"
for rows in 10000 100000; do
    insert $((rows - $(sql -c "SELECT count(*) FROM sprout_jobs")))
    echo "ANALYZE (state, job_type, priority), target 10, $rows rows: $(timed "SET default_statistics_target = 10; ANALYZE sprout_jobs (state, job_type, priority)") ms;" \
        "whole table, default target: $(timed "ANALYZE sprout_jobs") ms"
done
echo "pg_test_fsync, one 8 kB write and fdatasync, in the data directory's file system (ops/s, usecs/op):"
"$(pg_config --bindir)/pg_test_fsync" -s 1 -f "$POSTGRES_DIR/fsync-test" | grep -m1 '^ *fdatasync'
