#!/usr/bin/env bash
# Beyond one machine: a PostgreSQL in a temporary directory, three worker hosts (processes
# of Examples/Distributed, one pool process each), 10,000 CountPrimes jobs submitted; one
# host is killed (SIGKILL) once half the results are in. Every result is checked against a
# count made by the submitter; the jobs the dead host held run again elsewhere once their
# lease (5 s) expires, and the script says how many. No root needed (as root, PostgreSQL
# runs as the postgres user).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
source scripts/lib/postgres.sh
jobs="${1:-10000}"

echo "== release build of sprout-distributed (a few minutes the first time)"
swift build -c release --package-path Examples --product sprout-distributed 2>&1 | grep -E "error|warning|Compiling|Build" | tail -3
demo="$(swift build -c release --package-path Examples --show-bin-path)/sprout-distributed"

workers=()
submitter=""
watchdog=""
cleanup() {
    [ -z "$watchdog" ] || kill -TERM "$watchdog" 2>/dev/null || true
    for pid in $submitter "${workers[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in $submitter "${workers[@]}"; do wait "$pid" 2>/dev/null || true; done
    postgres_stop
}
trap cleanup EXIT
# Ctrl-C or kill: leave through the EXIT trap (the submitter runs in the background so the
# shell takes the signal at once, not when it finishes).
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# A kill -9 of this script runs no trap: a watchdog stops the submitter and the hosts once it
# is gone (it ignores the terminal's Ctrl-C; the EXIT trap stops it with SIGTERM), and
# postgres_start's own watchdog stops the server.
watch_script() {
    trap '' INT HUP
    trap 'exit 0' TERM
    while kill -0 $$ 2>/dev/null; do sleep 0.5; done
    # Hosts drain on SIGTERM; any still there after 2 s are killed (the server is going).
    for pid in "$@"; do kill -TERM "$pid" 2>/dev/null || true; done
    sleep 2
    for pid in "$@"; do kill -KILL "$pid" 2>/dev/null || true; done
}

postgres_start
echo "== PostgreSQL on 127.0.0.1:$POSTGRES_PORT ($POSTGRES_DIR)"
for _ in 1 2 3; do
    "$demo" worker "$POSTGRES_URL" 1 5 &
    workers+=($!)
done
echo "== worker hosts: ${workers[*]}; submitting $jobs jobs, killing host ${workers[0]} midway"
"$demo" submit "$POSTGRES_URL" "$jobs" "${workers[0]}" &
submitter=$!
watch_script "$submitter" "${workers[@]}" </dev/null >/dev/null 2>&1 &
watchdog=$!
wait "$submitter"
