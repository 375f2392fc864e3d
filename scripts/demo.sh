#!/usr/bin/env bash
# Installs what is missing, then builds and runs Sprout's main demo in release mode.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
# The demos are the Examples package (Examples/Package.swift), built with Sprout from this checkout.
swift build -c release --package-path Examples --product sprout-demo
exec "$(swift build -c release --package-path Examples --show-bin-path)/sprout-demo" "$@"
