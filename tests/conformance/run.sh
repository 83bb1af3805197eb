#!/bin/sh
# Runs the official dingtalk-stream npm client (pinned in package-lock.json) against
# `BINARY emulate`. Exit 0 pass, 1 fail, 77 skipped (no node/npm). Usage: run.sh BINARY
set -u
case "$0" in
  */*) here=$(cd "${0%/*}" && pwd) ;;
  *) here=$(pwd) ;;
esac
binary=${1:?usage: run.sh BINARY}

# shellcheck source=../npm_test_setup.sh
. "$here/../npm_test_setup.sh"
prepare_npm_test "$here" "$binary"

client_id=dingconformanceclient
client_secret=conformance-secret-1
work=$(mktemp -d)
emulator_pid=
cleanup() {
  if [ -n "$emulator_pid" ]; then
    kill -TERM "$emulator_pid" 2>/dev/null
    wait "$emulator_pid" 2>/dev/null
  fi
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

"$binary" emulate --listen 127.0.0.1:0 --client-id "$client_id" --client-secret "$client_secret" \
  >"$work/stdout" 2>"$work/stderr" &
emulator_pid=$!

address=
i=0
while [ $i -lt 100 ]; do
  address=$(sed -n 's/^emulator listening on \([^ ]*\)$/\1/p' "$work/stdout" 2>/dev/null | head -n 1)
  [ -n "$address" ] && break
  if ! kill -0 "$emulator_pid" 2>/dev/null; then break; fi
  sleep 0.1
  i=$((i + 1))
done
if [ -z "$address" ]; then
  echo "FAIL: the emulator did not report its address" >&2
  cat "$work/stdout" "$work/stderr" >&2
  exit 1
fi

timeout 120 node conformance.js "http://$address" "$client_id" "$client_secret"
status=$?
if [ $status -ne 0 ]; then
  echo "--- emulator log ---" >&2
  cat "$work/stderr" >&2
  [ $status -ne 1 ] && status=1
fi
exit $status
