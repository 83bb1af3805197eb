#!/bin/sh
# Installs the Debian 12 packages needed to build and test dingtalk-stream-bridge;
# `--build-only` installs only what building the binary and its .deb needs (the Docker
# image's build stage). Idempotent: apt-get skips what is already installed. Run as root
# or with sudo.
set -eu
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
PACKAGES="build-essential cmake pkg-config file ca-certificates \
  libwebsockets-dev libcurl4-openssl-dev rapidjson-dev libcli11-dev libyaml-cpp-dev \
  catch2 libsqlite3-dev libhiredis-dev libssl-dev libsystemd-dev python3 openssl"
# Tests only. prometheus: for promtool, which checks and unit-tests
# packaging/monitoring/alerts.yaml; redis-server: the Redis store's tests, the two-replica
# tests and the benchmark start real ones (never skipped); python3-yaml: the replicas
# compose example's check (test_replicas).
TEST_PACKAGES="prometheus redis-server python3-yaml"
case "${1:-}" in
  --build-only) ;;
  "") PACKAGES="$PACKAGES $TEST_PACKAGES" ;;
  *) echo "usage: $0 [--build-only]" >&2; exit 2 ;;
esac
# shellcheck disable=SC2086
if ! dpkg-query -W -f='${Status}\n' $PACKAGES 2>/dev/null | grep -qv 'install ok installed' \
   && [ "$(dpkg-query -W -f='${Status}\n' $PACKAGES 2>/dev/null | wc -l)" -eq "$(echo $PACKAGES | wc -w)" ]; then
  echo "install-deps: all packages already installed"
  exit 0
fi
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $PACKAGES
