#!/usr/bin/env bash
# Runs the test suite under a sanitizer: `scripts/sanitize.sh address` (AddressSanitizer,
# with LeakSanitizer) or `scripts/sanitize.sh thread` (ThreadSanitizer). Extra arguments go
# to `swift test` (e.g. --filter). Each sanitizer builds in a scratch folder of its own, so
# the ordinary debug build is left alone.
#
# Every process the tests start (pool workers, helper programs) is instrumented too, and
# every report, from any of them, goes to a file of its own in one folder (log_path): after
# the run, any report fails it and is printed. Reports do not change a process's exit
# status (LeakSanitizer's and ThreadSanitizer's exitcode=0): many tests check a child's
# exit code or signal, and a sanitizer's 23 or 66 in its place would fail them for the
# wrong reason and hide which report it was. AddressSanitizer still stops a process at its
# first memory error (it cannot go on safely); its report is in the folder all the same.
set -euo pipefail
cd "$(dirname "$0")/.."
kind=${1:-}
case "$kind" in
    address|thread) shift ;;
    *) echo "usage: scripts/sanitize.sh address|thread [swift test options]" >&2; exit 2 ;;
esac
scripts/install-deps.sh
scratch=".build-$kind"
flags=(--sanitize "$kind" --scratch-path "$scratch")
# Sprout's ThreadMutex tells ThreadSanitizer about Mutex's lock hand-offs in this build
# (Sources/Sprout/Hub/ThreadMutex.swift says why it cannot see them by itself).
[ "$kind" = thread ] && flags+=(-Xswiftc -DSPROUT_TSAN)
# Instrumented code runs several times slower: timing bounds stretch, and so does the
# blocked-hub report's threshold (100 ms by default) in the programs the tests start.
export SPROUT_TIMING_SLACK=${SPROUT_TIMING_SLACK:-4}
export SPROUT_BLOCKING_MS=${SPROUT_BLOCKING_MS:-$((100 * ${SPROUT_TIMING_SLACK%%.*}))}
export SPROUT_SANITIZER=$kind
reports=$(mktemp -d /tmp/sprout-sanitizer-XXXXXX)
trap 'rm -rf "$reports"' EXIT
suppressions="$PWD/scripts/sanitizers"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:halt_on_error=1:log_path=$reports/asan:${ASAN_OPTIONS:-}"
export LSAN_OPTIONS="suppressions=$suppressions/lsan.supp:print_suppressions=0:exitcode=0:${LSAN_OPTIONS:-}"
export TSAN_OPTIONS="suppressions=$suppressions/tsan.supp:halt_on_error=0:exitcode=0:second_deadlock_stack=1:log_path=$reports/tsan:${TSAN_OPTIONS:-}"
began=$SECONDS
swift build --build-tests "${flags[@]}"
echo "sanitize.sh $kind: build took $((SECONDS - began)) s"
began=$SECONDS
status=0
swift test --skip-build "${flags[@]}" "$@" || status=$?
echo "sanitize.sh $kind: tests took $((SECONDS - began)) s (status $status)"
found=$(grep -l "SUMMARY: " "$reports"/* 2>/dev/null || true)
if [ -n "$found" ]; then
    cat "$reports"/*
    echo "sanitize.sh $kind: reports from $(echo "$found" | wc -l) process(es), above" >&2
    exit 1
fi
exit "$status"
