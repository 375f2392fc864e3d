#!/usr/bin/env bash
# Counts the user-space instructions a Sprout server spends per round trip or request,
# under valgrind's callgrind (deterministic, unlike CPU time on a shared machine):
#
#   bench/compare/instructions.sh echo          # TCP echo server, 20 clients x 64 B
#   bench/compare/instructions.sh http-server   # HTTP server under wrk -t1 -c50
#   bench/compare/instructions.sh echo-peer     # the same count for uvloop's Protocol server
#
# Each count is a difference of two runs, so start-up and teardown drop out: echo runs
# 2200 and 200 round trips per client; http-server runs wrk for 4 s and a single request.
# Needs valgrind, a C compiler and, for http-server, wrk and curl: setup.sh installs them.
set -euo pipefail
cd "$(dirname "$0")/../.."
here=bench/compare
mode=${1:-echo}
"$here/setup.sh" valgrind cc $([ "$mode" = http-server ] && echo wrk curl)

swift build -c release --package-path Examples --product sprout-bench >&2
bin="$(swift build -c release --package-path Examples --show-bin-path)/sprout-bench"
client="$here/results/echo_client"
mkdir -p "$here/results"
[ -x "$client" ] && [ "$client" -nt "$here/peers/echo_client.c" ] || cc -O2 -o "$client" "$here/peers/echo_client.c"
work=$(mktemp -d)
trap 'pkill -TERM -f "callgrind-out-file=$work" 2>/dev/null || true; rm -rf "$work"' EXIT

total() { callgrind_annotate "$1" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}'; }

# Starts SERVER ARGV... under callgrind; its first stdout line is "PORT n".
start() {
    local out=$1; shift
    : > "$work/port"
    valgrind --tool=callgrind --callgrind-out-file="$out" "$@" > "$work/port" 2> "$work/valgrind.log" &
    for _ in $(seq 300); do [ -s "$work/port" ] && return; sleep 0.1; done
    echo "server did not start under callgrind" >&2; cat "$work/valgrind.log" >&2; exit 1
}

# Stops the server (SIGTERM) and waits for callgrind to write its file.
stop() {
    pkill -TERM -f "callgrind-out-file=$1" || true
    for _ in $(seq 100); do pgrep -f "callgrind-out-file=$1" > /dev/null || return 0; sleep 0.1; done
}

echo_run() {  # OUT ROUNDS SERVER ARGV...
    local out=$1 rounds=$2; shift 2
    start "$out" "$@"
    "$client" "$(awk '{print $2}' "$work/port")" 20 "$rounds" 64 > /dev/null
    stop "$out"
    total "$out"
}

case "$mode" in
echo|echo-peer)
    if [ "$mode" = echo ]; then
        server=("$bin" echo-server)
    else
        python=$(python3 -c "import sys; sys.path.insert(0, '$here'); import compare; print(compare.ensure_venv())")
        server=("$python" "$here/peers/echo_asyncio.py" --uvloop --protocol)
    fi
    short=$(echo_run "$work/short" 200 "${server[@]}")
    long=$(echo_run "$work/long" 2200 "${server[@]}")
    echo "$mode: $(( (long - short) / 40000 )) user-space instructions per round trip"
    ;;
http-server)
    port=$(python3 -c "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")
    idle() {
        valgrind --tool=callgrind --callgrind-out-file="$1" "$bin" http-serve "$port" 2> "$work/valgrind.log" &
        for _ in $(seq 300); do curl -s -o /dev/null "http://127.0.0.1:$port/" && return; sleep 0.1; done
        echo "server did not start under callgrind" >&2; exit 1
    }
    idle "$work/short"; stop "$work/short"
    short=$(total "$work/short")
    idle "$work/long"
    requests=$(wrk -t1 -c50 -d4s "http://127.0.0.1:$port/" | awk '/requests in/ {print $1}')
    stop "$work/long"
    long=$(total "$work/long")
    echo "http-server: $(( (long - short) / requests )) user-space instructions per request ($requests requests)"
    ;;
*)
    echo "usage: $0 echo|echo-peer|http-server" >&2; exit 2
    ;;
esac
