#!/usr/bin/env bash
# The whole test suite, on a fresh machine too: installs the test dependencies
# (Debian's chromium and CJK fonts for the browser tests, when missing), then runs pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v chromium >/dev/null 2>&1 || ! fc-list 2>/dev/null | grep -qi "noto sans cjk"; then
    if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq chromium fonts-noto-cjk >/dev/null
fi
python3 -m pip install -q -e '.[test]'
python3 -m pytest -q "$@"
