#!/bin/sh
# Runs the real bridge against the emulator with `signing: standard-webhooks` and verifies
# its requests with the reference standardwebhooks npm library (pinned in
# package-lock.json). Exit 0 pass, 1 fail, 77 skipped (no node/npm). Usage: run.sh BINARY
set -u
case "$0" in
  */*) here=$(cd "${0%/*}" && pwd) ;;
  *) here=$(pwd) ;;
esac
binary=${1:?usage: run.sh BINARY}

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "SKIPPED: node/npm not found" >&2
  exit 77
fi
if [ ! -x "$binary" ]; then
  echo "FAIL: $binary is not executable" >&2
  exit 1
fi

cd "$here" || exit 1
# Reinstall when the lock file is newer than the installed tree.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  if ! timeout 180 npm ci --no-audit --no-fund --loglevel=error; then
    echo "FAIL: npm ci failed (is the npm registry reachable?)" >&2
    exit 1
  fi
fi

timeout 120 node standard_webhooks.js "$binary"
status=$?
[ $status -gt 1 ] && status=1
exit $status
