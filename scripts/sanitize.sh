#!/usr/bin/env bash
# Runs the test suite under a sanitizer: `scripts/sanitize.sh address` (AddressSanitizer,
# with LeakSanitizer) or `scripts/sanitize.sh thread` (ThreadSanitizer). Extra arguments go
# to `swift test` (e.g. --filter). Each sanitizer builds in a scratch folder of its own, so
# the ordinary debug build is left alone. Findings fail the run: a report in the test
# process ends it, and one in a helper process (pool workers, test programs) makes that
# process exit non-zero, which the test that started it sees.
set -euo pipefail
cd "$(dirname "$0")/.."
kind=${1:-}
case "$kind" in
    address|thread) shift ;;
    *) echo "usage: scripts/sanitize.sh address|thread [swift test options]" >&2; exit 2 ;;
esac
scripts/install-deps.sh
scratch=".build-$kind"
# Instrumented code runs several times slower: timing bounds stretch, heavy tests shrink.
export SPROUT_TIMING_SLACK=${SPROUT_TIMING_SLACK:-4}
export SPROUT_SANITIZER=$kind
suppressions="$PWD/scripts/sanitizers"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:halt_on_error=1:${ASAN_OPTIONS:-}"
export LSAN_OPTIONS="suppressions=$suppressions/lsan.supp:print_suppressions=0:${LSAN_OPTIONS:-}"
export TSAN_OPTIONS="suppressions=$suppressions/tsan.supp:halt_on_error=1:second_deadlock_stack=1:${TSAN_OPTIONS:-}"
swift build --build-tests --sanitize "$kind" --scratch-path "$scratch"
swift test --skip-build --sanitize "$kind" --scratch-path "$scratch" "$@"
