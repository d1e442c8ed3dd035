#!/usr/bin/env bash
# Real components for tests/integration/test_inbox_ui.py and test_relay.py:
# - Debian's chromium (apt), driven by playwright through executable_path=/usr/bin/chromium;
#   playwright's own browser download (`playwright install`) is never used;
# - the Python packages playwright (the driver), aiosmtpd (the SMTP server process the relay
#   test sends to) and aiosmtplib (the relay's client) belong in the project venv (the `dev`
#   extra); they are installed here too so that a venv made before they were listed works.
# Idempotent: each part is skipped when it is already there.
set -euo pipefail
cd "$(dirname "$0")/../.."

if [ -x /usr/bin/chromium ]; then
    echo "chromium: already installed ($(/usr/bin/chromium --version 2>/dev/null || echo unknown))"
else
    export DEBIAN_FRONTEND=noninteractive
    SUDO=""
    if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
    # The package lists may be missing or stale on a fresh machine: update once, then install.
    if ! $SUDO apt-get install -y --no-install-recommends chromium; then
        $SUDO apt-get update
        $SUDO apt-get install -y --no-install-recommends chromium
    fi
    /usr/bin/chromium --version
    echo "chromium: installed"
fi

python=.venv/bin/python
if [ ! -x "$python" ]; then python=python3; fi
if "$python" -c "import playwright, aiosmtpd, aiosmtplib" 2>/dev/null; then
    echo "python: playwright, aiosmtpd and aiosmtplib already installed"
else
    "$python" -m pip install --quiet --disable-pip-version-check playwright aiosmtpd aiosmtplib
    echo "python: playwright, aiosmtpd and aiosmtplib installed"
fi
