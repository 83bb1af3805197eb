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

# shellcheck source=../npm_test_setup.sh
. "$here/../npm_test_setup.sh"
prepare_npm_test "$here" "$binary"

timeout 120 node standard_webhooks.js "$binary"
status=$?
[ $status -gt 1 ] && status=1
exit $status
