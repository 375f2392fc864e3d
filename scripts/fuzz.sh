#!/usr/bin/env bash
# Fuzzes one parser of untrusted bytes with libFuzzer and AddressSanitizer:
#   scripts/fuzz.sh TARGET SECONDS      TARGET: FuzzHTTPRequest, FuzzFrameReader, FuzzJSONDecoder
# Builds TARGET in its own scratch folder (.build/fuzz, so the normal build is untouched),
# runs it for SECONDS on the committed seeds in Fuzz/Corpus/TARGET (new inputs go to
# .build/fuzz/corpus/TARGET) and exits non-zero on a crash, a broken invariant, a timeout
# (5 s for one input) or 2 GiB of memory; the input that did it is saved as
# .build/fuzz/artifacts/TARGET-crash-*.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -ne 2 ]; then
    echo "usage: scripts/fuzz.sh TARGET SECONDS" >&2
    exit 2
fi
target=$1
seconds=$2
if [ ! -d "Fuzz/Corpus/$target" ]; then
    echo "no seed corpus Fuzz/Corpus/$target: is $target a fuzz target?" >&2
    exit 2
fi
# `--sanitize fuzzer --sanitize address` reaches swiftc as two -sanitize= flags, and the
# last one wins: ASan without libFuzzer's coverage (the fuzzer then runs blind). So
# --sanitize fuzzer (which also makes SwiftPM leave `main` to libFuzzer) plus one combined
# flag. The linker's "Cannot export local symbol" lines are ASan's, harmless and many.
swift build --scratch-path .build/fuzz --product "$target" --sanitize fuzzer -Xswiftc -sanitize=fuzzer,address 2>&1 \
    | { grep -v "Cannot export local symbol" || true; }
binary=.build/fuzz/debug/$target
mkdir -p ".build/fuzz/corpus/$target" .build/fuzz/artifacts
# Swift's backtracer would wait on a crashing fuzz target instead of letting libFuzzer report it.
# FUZZ_SEED fixes libFuzzer's random seed (CI sets it, so a failure there replays the same
# inputs here); unset, each run explores from a new seed.
seed=()
[ -z "${FUZZ_SEED:-}" ] || seed=("-seed=$FUZZ_SEED")
SWIFT_BACKTRACE=enable=no "$binary" "${seed[@]}" -max_total_time="$seconds" -timeout=5 -rss_limit_mb=2048 \
    -artifact_prefix=".build/fuzz/artifacts/$target-" -print_final_stats=1 \
    ".build/fuzz/corpus/$target" "Fuzz/Corpus/$target"
