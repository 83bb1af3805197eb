#!/bin/sh
# Smoke test of the installed package (CI, after `apt-get install ./build/*.deb`): the
# installed binary runs the installed config against its own emulator, registers a Stream
# connection, and exits 0 on SIGTERM. Every port is 127.0.0.1:0; at most ~20 s.
set -eu
binary=/usr/bin/dingtalk-stream-bridge
config=/etc/dingtalk-stream-bridge/bridge.yaml
work=$(mktemp -d)
emulator_pid=""
bridge_pid=""
cleanup() {
  for pid in $bridge_pid $emulator_pid; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

# wait_for FILE PATTERN: up to 10 s for a line matching PATTERN in FILE.
wait_for() {
  for _ in $(seq 1 100); do
    if grep -q "$2" "$1"; then return 0; fi
    sleep 0.1
  done
  echo "smoke: timed out waiting for '$2' in $1:" >&2
  cat "$1" >&2
  return 1
}

export DINGTALK_CLIENT_ID=dingsmoketest DINGTALK_CLIENT_SECRET=smoke-secret
"$binary" emulate --listen 127.0.0.1:0 --client-id "$DINGTALK_CLIENT_ID" \
  --client-secret "$DINGTALK_CLIENT_SECRET" >"$work/emulator.log" 2>&1 &
emulator_pid=$!
wait_for "$work/emulator.log" "^emulator listening on "
address=$(sed -n 's/^emulator listening on \([^ ]*\).*/\1/p' "$work/emulator.log" | head -n 1)

DINGTALK_API_BASE="http://$address" BRIDGE_STATE_DIR="$work/state" \
  "$binary" run -c "$config" >"$work/bridge.log" 2>&1 &
bridge_pid=$!
wait_for "$work/bridge.log" "connection registered"
kill -TERM "$bridge_pid"
code=0
wait "$bridge_pid" || code=$?
bridge_pid=""
if [ "$code" -ne 0 ]; then
  echo "smoke: the bridge exited $code after SIGTERM:" >&2
  cat "$work/bridge.log" >&2
  exit 1
fi
echo "smoke: installed package OK (connected to the emulator, clean exit on SIGTERM)"
