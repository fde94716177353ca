#!/usr/bin/env bash
# Installs the independent Negentropy implementation (npm: @nostr-dev-kit/sync) that
# tests/interop/test_negentropy_interop.py pairs with ours. Safe to run again.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

for tool in node npm; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "tests/interop/install.sh: '$tool' not found; install Node.js (>= 18) with npm," \
             "e.g. 'apt-get install nodejs npm', then run this script again." >&2
        exit 1
    fi
done

cd "$here"
if [ -f package-lock.json ]; then
    npm ci --no-audit --no-fund
else
    npm install --no-audit --no-fund
fi
node --input-type=module -e 'await import("@nostr-dev-kit/sync")' \
    || { echo "tests/interop/install.sh: @nostr-dev-kit/sync installed but does not load" >&2; exit 1; }
echo "tests/interop: Negentropy interop dependencies are installed."
