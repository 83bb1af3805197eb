#!/bin/sh
# Runs the bridge in the foreground with config/bridge.example.yaml.
#
# With DINGTALK_CLIENT_ID and DINGTALK_CLIENT_SECRET set, it connects to DingTalk itself.
# Without them it first starts the built-in emulator on a free loopback port, pointed at by
# DINGTALK_API_BASE, which pushes a sample event every few seconds: the log then shows
# frames arriving and being ACKed. Ctrl-C stops both.
#
# Either way the app's local OpenAPI endpoint listens on 127.0.0.1:9181 (BRIDGE_OPENAPI_LISTEN):
#   curl -X PUT http://127.0.0.1:9181/v1.0/card/instances -d '{}'
#   curl -X POST http://127.0.0.1:9181/oapi/topapi/v2/user/get -d '{"userid":"u1"}'
# go to DingTalk (or the emulator) with the app's access token.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
binary=${BRIDGE_BINARY:-$top/build/src/dingtalk-stream-bridge}
config=${BRIDGE_CONFIG:-$top/config/bridge.example.yaml}
export BRIDGE_STATE_DIR="${BRIDGE_STATE_DIR:-$top/build/state}"
export BRIDGE_OPENAPI_LISTEN="${BRIDGE_OPENAPI_LISTEN:-127.0.0.1:9181}"
mkdir -p "$BRIDGE_STATE_DIR"

if [ ! -x "$binary" ]; then
  echo "run-local: $binary not found; build first: cmake -S . -B build && cmake --build build" >&2
  exit 2
fi

if [ -n "${DINGTALK_CLIENT_ID:-}" ] && [ -n "${DINGTALK_CLIENT_SECRET:-}" ]; then
  echo "run-local: connecting to DingTalk as $DINGTALK_CLIENT_ID" >&2
  exec "$binary" run -c "$config"
fi

export DINGTALK_CLIENT_ID=dingemulatorclient
export DINGTALK_CLIENT_SECRET=emulator-secret
emulator_log=$(mktemp)
"$binary" emulate --listen 127.0.0.1:0 --client-id "$DINGTALK_CLIENT_ID" \
  --client-secret "$DINGTALK_CLIENT_SECRET" --demo-interval 3 --ping-interval 20 \
  >"$emulator_log" 2>&1 &
emulator_pid=$!
trap 'kill "$emulator_pid" 2>/dev/null; wait "$emulator_pid" 2>/dev/null; rm -f "$emulator_log"' EXIT INT TERM

address=""
for _ in $(seq 1 50); do
  address=$(sed -n 's/^emulator listening on \([^ ]*\).*/\1/p' "$emulator_log" | head -n 1)
  [ -n "$address" ] && break
  if ! kill -0 "$emulator_pid" 2>/dev/null; then cat "$emulator_log" >&2; exit 1; fi
  sleep 0.1
done
if [ -z "$address" ]; then
  echo "run-local: the emulator did not start" >&2
  cat "$emulator_log" >&2
  exit 1
fi
export DINGTALK_API_BASE="http://$address"
export DINGTALK_OAPI_BASE="http://$address/oapi"

# The example config's webhooks live on 127.0.0.1:8080: answer there, unless something does.
webhook_pid=""
port_free() {
  python3 -c "import socket,sys; sys.exit(1 if socket.socket().connect_ex(('127.0.0.1', $1)) == 0 else 0)"
}
if command -v python3 >/dev/null && port_free 8080; then
  python3 "$top/packaging/examples/echo_webhook.py" 8080 &
  webhook_pid=$!
fi
echo "run-local: no DingTalk credentials set; using the built-in emulator at $DINGTALK_API_BASE" >&2
echo "run-local: it pushes a sample frame every 3 s; a demo webhook prints what it receives; Ctrl-C stops" >&2
echo "run-local: the OpenAPI through the bridge: curl -X PUT http://$BRIDGE_OPENAPI_LISTEN/v1.0/card/instances -d '{}'" >&2
"$binary" run -c "$config" &
bridge_pid=$!
trap 'kill "$bridge_pid" $webhook_pid "$emulator_pid" 2>/dev/null; wait 2>/dev/null; rm -f "$emulator_log"' EXIT INT TERM
wait "$bridge_pid"
