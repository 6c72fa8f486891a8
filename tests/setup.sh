#!/bin/sh
# Installs what the tests need: the Python test tools (requirements.txt) and, for the
# browser test, Debian's Chromium (Playwright drives it; it downloads no browser).
set -e
cd "$(dirname "$0")/.."
if ! command -v chromium >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq chromium >/dev/null
fi
python -m pip install -q -r requirements.txt
