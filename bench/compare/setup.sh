#!/usr/bin/env bash
# Makes sure the tools the comparison harness runs are here, installing the missing ones
# from Debian's packages (as root, or through sudo), and says plainly what is still missing.
#
#   bench/compare/setup.sh [TOOL...]     default: every tool below
#
# TOOL is one of: wrk (HTTP load generator), node (the Node peers), cc (C peers and the
# echo load client), valgrind (callgrind: instructions.py), curl.
# Exits 1, naming each missing tool and the package that brings it, if any is still missing.
set -euo pipefail

declare -A package=([wrk]=wrk [node]=nodejs [cc]=gcc [valgrind]=valgrind [curl]=curl)
declare -A command=([wrk]=wrk [node]=node [cc]=cc [valgrind]=callgrind_annotate [curl]=curl)
tools=("$@")
[ ${#tools[@]} -gt 0 ] || tools=(wrk node cc valgrind curl)

missing=()
for tool in "${tools[@]}"; do
    if [ -z "${package[$tool]:-}" ]; then
        echo "setup.sh: unknown tool '$tool' (known: ${!package[*]})" >&2
        exit 2
    fi
    command -v "${command[$tool]}" > /dev/null || missing+=("$tool")
done
[ ${#missing[@]} -eq 0 ] && exit 0

packages=()
for tool in "${missing[@]}"; do packages+=("${package[$tool]}"); done
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
if command -v apt-get > /dev/null && { [ -z "$sudo" ] || sudo -n true 2> /dev/null; }; then
    echo "== installing for the benchmarks: ${packages[*]}" >&2
    $sudo apt-get update -qq >&2 || true
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${packages[@]}" > /dev/null || true
fi

still=()
for tool in "${missing[@]}"; do
    command -v "${command[$tool]}" > /dev/null || still+=("$tool (Debian package ${package[$tool]})")
done
if [ ${#still[@]} -gt 0 ]; then
    echo "setup.sh: missing, and could not be installed here:" >&2
    for line in "${still[@]}"; do echo "  $line" >&2; done
    exit 1
fi
