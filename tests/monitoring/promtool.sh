#!/bin/sh
# Runs promtool (Debian package `prometheus`, installed by packaging/install-deps.sh), or
# exits 77 (ctest: skipped) with the reason when it is not installed.
if ! command -v promtool >/dev/null 2>&1; then
  echo "promtool not found: install Debian's prometheus package (packaging/install-deps.sh)" >&2
  exit 77
fi
exec promtool "$@"
