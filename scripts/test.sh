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
# The environment the README's first command made (.venv), or the active one;
# otherwise a new .venv: the tests never pip-install into the system's Python
# (which PEP 668 refuses on Debian 12 and later anyway).
if [ -n "${VIRTUAL_ENV:-}" ]; then
    PYTHON="$VIRTUAL_ENV/bin/python"
else
    [ -x .venv/bin/python ] || python3 -m venv .venv
    PYTHON=.venv/bin/python
fi
"$PYTHON" -m pip install -q -e '.[test]'
"$PYTHON" -m mypy
"$PYTHON" -m pytest -q "$@"
