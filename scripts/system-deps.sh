#!/usr/bin/env bash
# system-deps.sh: installs the system packages the tests use, when they are missing: Node.js and npm
# (the JavaScript guest SDK and componentize-js), python3-venv (the boto3 suite, componentize-py),
# Chromium with its driver (the console's browser tests) and a Java runtime (DynamoDB Local, the
# engine of the cluster tests). Debian/Ubuntu only (apt-get); it installs as root, or through sudo
# when sudo works without a password. Anything it cannot install is named, and the tests that need
# it say so when they run.
#
#   scripts/system-deps.sh            # install what is missing
#   scripts/system-deps.sh --check    # only list what is missing
set -uo pipefail

missing=()
need() { # need COMMAND PACKAGE...: the packages to install when COMMAND is absent
  local cmd=$1
  shift
  command -v "$cmd" >/dev/null 2>&1 || missing+=("$@")
}
need node nodejs
need npm npm
need chromium chromium
need chromedriver chromium-driver
need java openjdk-17-jre-headless
python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || missing+=(python3-venv)

if [ ${#missing[@]} -eq 0 ]; then
  echo "system packages: all present"
  exit 0
fi
echo "system packages missing: ${missing[*]}"
[ "${1:-}" = "--check" ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
  echo "no apt-get here: install ${missing[*]} with your package manager"
  exit 0
fi
if [ "$(id -u)" -eq 0 ]; then
  sudo=()
elif sudo -n true >/dev/null 2>&1; then
  sudo=(sudo -n)
else
  echo "not root and no passwordless sudo: run  sudo apt-get install -y ${missing[*]}"
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq >/dev/null 2>&1 || true
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
  || echo "apt-get could not install some of: ${missing[*]}"
