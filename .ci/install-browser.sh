#!/usr/bin/env bash
# Installs the browser the end-to-end tests (tests/e2e) drive: Debian's `chromium` package,
# at /usr/bin/chromium. Playwright for Python drives it from the venv (the test extra); we
# never run `playwright install`, which downloads a browser build of its own.
# Safe to run again: does nothing when /usr/bin/chromium is already there.
set -euo pipefail

CHROMIUM=/usr/bin/chromium

fail() {
    echo ".ci/install-browser.sh: $*" >&2
    exit 1
}

if [ -x "$CHROMIUM" ]; then
    echo ".ci/install-browser.sh: $("$CHROMIUM" --version 2>/dev/null || echo chromium) is installed."
    exit 0
fi

command -v apt-get >/dev/null 2>&1 \
    || fail "$CHROMIUM is missing and apt-get is not available; install Debian's 'chromium' package by hand."

if [ "$(id -u)" -eq 0 ]; then
    SUDO=()
elif command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo)
else
    fail "$CHROMIUM is missing; run this script as root (it runs 'apt-get install chromium')."
fi

export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update \
    || fail "'apt-get update' failed; cannot install chromium for the browser tests."
# fonts-liberation: readable text in the screenshots taken when a browser test fails.
"${SUDO[@]}" apt-get install -y --no-install-recommends chromium fonts-liberation \
    || fail "'apt-get install chromium' failed; the browser tests (tests/e2e) need it."

[ -x "$CHROMIUM" ] || fail "the chromium package is installed but $CHROMIUM is not there."
echo ".ci/install-browser.sh: installed $("$CHROMIUM" --version 2>/dev/null || echo chromium)."
