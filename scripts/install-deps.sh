#!/usr/bin/env bash
# Installs the Debian packages Sprout needs, only those that are missing.
set -euo pipefail
# python3-h11: the reference parser of HTTPRequestParserDifferentialTests (for /usr/bin/python3).
packages=(libuv1-dev libcurl4-openssl-dev libpq-dev postgresql pkg-config python3 python3-venv python3-h11 openssl)
missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "Installing: ${missing[*]}"
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi
