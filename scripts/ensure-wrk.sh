#!/usr/bin/env bash
# wrk (the benchmarks' load generator) from apt when it is missing.
set -euo pipefail
if command -v wrk >/dev/null; then exit 0; fi
echo "installing wrk from apt..." >&2
if [[ $(id -u) -eq 0 ]]; then SUDO=""; else SUDO="sudo"; fi
$SUDO apt-get update -qq >&2
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq wrk >&2
command -v wrk >/dev/null || { echo "wrk could not be installed" >&2; exit 1; }
