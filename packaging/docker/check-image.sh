#!/bin/sh
# CI (.ci/run): builds packaging/Dockerfile for real, from a clean clone of HEAD, and runs the
# image. Needs root and nothing but this machine's Debian mirror: no container registry.
#
#   1. debian:12 (and debian:12-slim) is a `debootstrap --variant=minbase bookworm` from the
#      mirror apt already uses, imported into a private podman storage. minbase is smaller
#      than the registry's image, so a package install-deps.sh forgets fails here too.
#   2. podman builds the image (runc, --format docker so the HEALTHCHECK is kept, --pull=never)
#      from `git clone` of HEAD: a file the Dockerfile needs but does not COPY fails the build.
#      A probe build of the same context checks that .dockerignore keeps secrets/, build
#      trees and .git out of it.
#   3. The image runs as an operator would run it (README "Docker"): read-only root, no
#      capabilities, config and secret mounted read-only, a bind-mounted state directory
#      chowned to 10001, beside the built-in emulator on a podman network. It must run as
#      uid 10001, turn healthy, deliver a spooled event, and stop with status 0 within 30 s.
#
# Everything it makes (storage, network, containers, the rootfs) goes on exit.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

missing=""
for tool in podman:podman runc:runc debootstrap:debootstrap git:git; do
  command -v "${tool%%:*}" >/dev/null || missing="$missing ${tool#*:}"
done
if [ -n "$missing" ]; then
  $SUDO apt-get update -qq
  # shellcheck disable=SC2086
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing
fi

work=$(mktemp -d /var/tmp/dsb-image-check.XXXXXX)
tag=dsb-check-$$
net=$tag
# A private storage: nothing cached from earlier runs or pulled from a registry is used.
podman_binary=$(command -v podman)
podman() { $SUDO "$podman_binary" --root "$work/storage" --runroot "$work/run" --runtime runc "$@"; }
cleanup() {
  status=$?
  podman rm -f -t 0 "$tag-bridge" "$tag-emulator" >/dev/null 2>&1 || true
  podman network rm -f "$net" >/dev/null 2>&1 || true
  podman rmi -a -f >/dev/null 2>&1 || true
  $SUDO rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# runc sets the containers' rlimits; where this shell may not raise its own (CI runs inside a
# container without CAP_SYS_RESOURCE) podman's defaults (nofile 1048576, nproc above
# pid_max) make every RUN fail: keep this shell's open-file limit, cap processes at 32768.
nofile=$(awk '/^Max open files/ { print $5 }' /proc/self/limits)
cat >"$work/containers.conf" <<EOF
[containers]
default_ulimits = ["nofile=$nofile:$nofile", "nproc=32768:32768"]
EOF
export CONTAINERS_CONF="$work/containers.conf"

step() { echo "check-image: $* ($(date +%T))"; }

step "debootstrap bookworm"
# shellcheck disable=SC2016 # $(...) are apt's field names, not shell
mirror=$(apt-get indextargets --format '$(CODENAME) $(LABEL) $(REPO_URI)' |
         awk '$1 == "bookworm" && $2 == "Debian" { print $3; exit }')
mirror=${mirror:-http://deb.debian.org/debian/}
$SUDO debootstrap --variant=minbase bookworm "$work/rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 ||
  { tail -20 "$work/debootstrap.log"; exit 1; }
$SUDO tar -C "$work/rootfs" -c . | podman import -q - docker.io/library/debian:12 >/dev/null
podman tag docker.io/library/debian:12 docker.io/library/debian:12-slim
$SUDO rm -rf "$work/rootfs"

step "clean clone of $(git -C "$top" rev-parse --short HEAD)"
git clone -q --no-hardlinks "$top" "$work/src"
git -C "$work/src" checkout -q --detach "$(git -C "$top" rev-parse HEAD)"
# What an operator's checkout holds beside the sources: none of it may reach the builder.
mkdir -p "$work/src/packaging/secrets" "$work/src/build"
echo never-in-an-image >"$work/src/packaging/secrets/dingtalk_client_secret"
echo never-in-an-image >"$work/src/build/CMakeCache.txt"
printf 'FROM debian:12\nCOPY . /context\n' >"$work/probe.Dockerfile"
podman build -q --pull=never -f "$work/probe.Dockerfile" -t "$tag-probe" "$work/src" >/dev/null
podman run --rm "$tag-probe" sh -c \
  'test -f /context/packaging/Dockerfile && ! test -e /context/packaging/secrets \
   && ! test -e /context/build && ! test -e /context/.git' ||
  { echo "check-image: .dockerignore lets secrets/, build/ or .git into the context" >&2; exit 1; }

step "podman build"
podman build --format docker --pull=never --network host \
  -f "$work/src/packaging/Dockerfile" -t "$tag" "$work/src"

step "run the image"
podman network create "$net" >/dev/null
subnet=$(podman network inspect "$net" --format '{{range .Subnets}}{{.Subnet}}{{end}}')
# The emulator's open call answers a websocket URL built from its listen address, which must
# be an address: give it one in the network's subnet (a /24 from podman's pool).
emulator_ip="${subnet%.*/*}.18"
api="http://$emulator_ip:18080"
podman run -d --name "$tag-emulator" --network "$net" --ip "$emulator_ip" \
  --entrypoint dingtalk-stream-bridge "$tag" \
  emulate --listen "$emulator_ip:18080" --client-id dingimagecheck --client-secret image-check-secret \
  >/dev/null

mkdir -p "$work/config" "$work/state"
printf %s image-check-secret >"$work/client_secret"
chmod 0444 "$work/client_secret"
$SUDO chown 10001:10001 "$work/state"
# The webhook is the emulator's sessionWebhook sink, which answers 200 to any POST.
cat >"$work/config/bridge.yaml" <<EOF
dingtalk:
  client_id: dingimagecheck
  client_secret_file: /run/secrets/dingtalk_client_secret
  api_base: $api
routes:
  - name: events
    event: "*"
    url: $api/robot/sendBySession?session=image-check
    delivery: spool
EOF
# Without systemd, podman logs that it cannot schedule the periodic HEALTHCHECK; `podman
# healthcheck run` below runs it on demand all the same.
podman run -d --name "$tag-bridge" --network "$net" --read-only --tmpfs /tmp --cap-drop ALL \
  --security-opt no-new-privileges \
  -v "$work/config:/etc/dingtalk-stream-bridge:ro" \
  -v "$work/client_secret:/run/secrets/dingtalk_client_secret:ro" \
  -v "$work/state:/var/lib/dingtalk-stream-bridge" \
  "$tag" >/dev/null

in_bridge() { podman exec "$tag-bridge" "$@"; }
wait_for() {  # DESCRIPTION COMMAND...: up to 30 s
  what=$1; shift
  i=0
  until "$@" >/dev/null 2>&1; do
    i=$((i + 1))
    if [ "$i" -ge 30 ]; then
      echo "check-image: not within 30 s: $what" >&2
      podman logs "$tag-emulator" >&2 || true
      podman logs "$tag-bridge" >&2 || true
      exit 1
    fi
    sleep 1
  done
}
wait_for "bridge ready (/readyz)" in_bridge curl -fsS http://127.0.0.1:9180/readyz
test "$(in_bridge id -u)" = 10001
wait_for "HEALTHCHECK healthy" podman healthcheck run "$tag-bridge"
in_bridge curl -fsS -X POST -H 'Content-Type: application/json' \
  -d '{"type":"EVENT","eventType":"image_check","eventId":"image-check-1","data":{"imageCheck":1}}' \
  "$api/emulator/frames" >/dev/null
delivered() { in_bridge curl -fsS "$api/emulator/replies" | grep -q imageCheck; }
wait_for "the spooled event delivered" delivered
in_bridge curl -fsS "$api/emulator/acks" | grep -q '"status":"SUCCESS"'

step "stop"
podman stop -t 30 "$tag-bridge" >/dev/null
code=$(podman inspect "$tag-bridge" --format '{{.State.ExitCode}}')
if [ "$code" != 0 ]; then
  podman logs "$tag-bridge" >&2
  echo "check-image: the bridge exited with $code on SIGTERM" >&2
  exit 1
fi
step "ok"
