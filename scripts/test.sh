#!/usr/bin/env bash
# Installs what is missing, then builds and runs the whole test suite.
# SPROUT_TEST_SCALE (default 1) multiplies the size of the heavy tests.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
swift build --build-tests
# The examples are a package of their own (Examples/Package.swift) with tests of their own.
swift build --build-tests --package-path Examples
# One test at a time: the tests share one hub and 2 cores, and many of them assert on
# timing (wake-up lateness, timeouts) that a neighbour spawning worker processes would skew.
swift test --skip-build --no-parallel "$@"
swift test --skip-build --no-parallel --package-path Examples "$@"
