#!/usr/bin/env bash
# Debian's Chromium (driven by Playwright's Python package) and CJK fonts for browser tests.
set -euo pipefail
if [[ -x /usr/bin/chromium ]] && fc-list 2>/dev/null | grep -qi "Noto Sans CJK"; then exit 0; fi
if [[ $(id -u) -eq 0 ]]; then SUDO=""; else SUDO="sudo"; fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium fonts-noto-cjk
