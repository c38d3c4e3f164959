#!/usr/bin/env bash
# What the browser tests need on a fresh machine, installed instead of skipped (`make test` runs this):
#   - Debian's chromium at /usr/bin/chromium, which Playwright (from PyPI, in the dev group) drives; no
#     browser is downloaded by Playwright itself;
#   - axe-core, the accessibility checker, from the npm registry at the version of the committed lock.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CHROMIUM=/usr/bin/chromium

log() { echo "browser tests: $*" >&2; }

if [[ ! -x "$CHROMIUM" ]]; then
  if [[ "$(id -u)" != 0 ]] || ! command -v apt-get >/dev/null; then
    log "missing $CHROMIUM; install it (Debian: sudo apt-get install -y chromium)"
    exit 1
  fi
  log "installing chromium from Debian's packages"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null ||
    { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null; }
fi

if ! command -v npm >/dev/null; then
  log "missing npm (Node.js), which installs axe-core; install it (Debian: sudo apt-get install -y npm)"
  exit 1
fi
wanted="$(node -p "require('$HERE/package-lock.json').packages['node_modules/axe-core'].version")"
installed="$(node -p "require('$HERE/node_modules/axe-core/package.json').version" 2>/dev/null || true)"
if [[ "$installed" != "$wanted" ]]; then
  log "installing axe-core from the npm lock"
  npm ci --prefix "$HERE" --no-audit --no-fund --loglevel=error >/dev/null
fi
