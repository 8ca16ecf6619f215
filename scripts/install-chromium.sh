#!/usr/bin/env bash
# Browser tests drive Debian's Chromium with playwright-core; no test tool downloads a browser.
# Installs the `chromium` package when it is missing (root, or sudo when available).
set -euo pipefail
if [ -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ]; then
  echo "chromium: $("${CHROMIUM_PATH:-/usr/bin/chromium}" --version 2>/dev/null || echo present)"
  exit 0
fi
as_root=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "chromium is missing and this user cannot install it: apt-get install -y chromium as root, or set CHROMIUM_PATH" >&2; exit 1; }
  as_root=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -qq
"${as_root[@]}" apt-get install -y -qq chromium >/dev/null
echo "chromium: $(/usr/bin/chromium --version)"
