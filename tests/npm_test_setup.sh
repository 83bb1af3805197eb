# Sourced by the npm-backed tests (conformance/, standard_webhooks/): their shared set-up.
# prepare_npm_test DIR BINARY: exits 77 (ctest: skipped) without node/npm, 1 when BINARY is
# not executable or the pinned packages cannot be installed; else leaves the shell in DIR
# with DIR/node_modules matching DIR/package-lock.json.
prepare_npm_test() {
  if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    echo "SKIPPED: node/npm not found" >&2
    exit 77
  fi
  if [ ! -x "$2" ]; then
    echo "FAIL: $2 is not executable" >&2
    exit 1
  fi
  cd "$1" || exit 1
  # Reinstall when the lock file is newer than the installed tree.
  if [ ! -f node_modules/.package-lock.json ] ||
     [ package-lock.json -nt node_modules/.package-lock.json ]; then
    if ! timeout 180 npm ci --no-audit --no-fund --loglevel=error; then
      echo "FAIL: npm ci failed (is the npm registry reachable?)" >&2
      exit 1
    fi
  fi
}
