#!/usr/bin/env bash
# Installs what is missing, then builds and runs the whole test suite.
# SPROUT_TEST_SCALE (default 1) multiplies the size of the heavy tests.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
swift build --build-tests
exec swift test --skip-build "$@"
