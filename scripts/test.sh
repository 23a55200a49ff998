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
# A system Python that is externally managed (PEP 668: Debian 12 and later)
# refuses pip installs: use a virtual environment there.
PYTHON=python3
if [ -e "$(python3 -c 'import sysconfig; print(sysconfig.get_path("stdlib"))')/EXTERNALLY-MANAGED" ] \
        && [ -z "${VIRTUAL_ENV:-}" ]; then
    python3 -m venv .venv
    PYTHON=.venv/bin/python
fi
"$PYTHON" -m pip install -q -e '.[test]'
"$PYTHON" -m mypy
"$PYTHON" -m pytest -q "$@"
