#!/usr/bin/env bash
# Installs what the console's browser tests (tests/python/console/) need: Debian's chromium and
# chromium-driver, when they are missing. Selenium itself comes from PyPI with the other Python
# test dependencies (tests/python/requirements.txt) and drives /usr/bin/chromium through
# /usr/bin/chromedriver; no browser is downloaded by a test tool.
# Needs root (or sudo) for apt-get; does nothing when both are already installed.
set -euo pipefail
if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then
  exit 0
fi
as_root=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "browser-deps: need root or sudo to install chromium" >&2; exit 1; }
  as_root=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -qq
"${as_root[@]}" apt-get install -y -qq --no-install-recommends chromium chromium-driver
