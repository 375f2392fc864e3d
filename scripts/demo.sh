#!/usr/bin/env bash
# Installs what is missing, then builds and runs Sprout's main demo in release mode.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
swift build -c release --product sprout-demo
exec .build/release/sprout-demo "$@"
