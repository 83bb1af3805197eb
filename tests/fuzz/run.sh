#!/bin/sh
# Builds and runs the libFuzzer targets for a bounded time; what CI calls.
#   tests/fuzz/run.sh                  every target, FUZZ_SECONDS (default 60) each
#   FUZZ_SECONDS=600 tests/fuzz/run.sh fuzz_frame
# Installs clang (Debian 12: clang-14 and its libFuzzer runtime) when it is missing. Each
# target starts from a temporary copy of tests/fuzz/corpus/<target>, so the committed seeds
# are never polluted; a crash leaves its input and log in $FUZZ_OUT (printed) and makes the
# script exit non-zero after every target has run.
#
# Seeds (tests/fuzz/corpus/<target>): bad_* must be refused with a message, regress_* once
# crashed a target (keep them). tests/unit/fuzz_regressions_test.cpp replays every seed in the
# ordinary unit build against the outcome it was written for; a crash found here gets its
# input added as regress_* and a unit test there.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${FUZZ_BUILD_DIR:-$root/build-fuzz}
seconds=${FUZZ_SECONDS:-60}
jobs=${FUZZ_JOBS:-$(nproc)}
targets=${*:-fuzz_frame fuzz_config fuzz_legacy fuzz_graph}

# Can clang++ link a fuzzer with both sanitizers? (clang alone is not enough: libFuzzer
# and the sanitizer runtimes are in libclang-rt-14-dev, which clang only recommends.)
can_link_fuzzer() {
  command -v clang++ >/dev/null 2>&1 &&
    echo 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }' |
    clang++ -x c++ -fsanitize=fuzzer,address,undefined - -o /dev/null >/dev/null 2>&1
}
if ! can_link_fuzzer; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends clang libclang-rt-14-dev
  if ! can_link_fuzzer; then
    echo "run.sh: clang++ still cannot link -fsanitize=fuzzer,address,undefined" >&2
    exit 1
  fi
fi

# The unit tests stay configured (the fuzz targets live under tests/) but are not built.
CC=clang CXX=clang++ cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DBRIDGE_BUILD_TESTS=ON -DBRIDGE_BUILD_FUZZERS=ON -DBRIDGE_SANITIZE=address,undefined >/dev/null
# shellcheck disable=SC2086
cmake --build "$build" -j"$jobs" --target $targets

out=${FUZZ_OUT:-$(mktemp -d "${TMPDIR:-/tmp}/bridge-fuzz.XXXXXX")}
export UBSAN_OPTIONS="suppressions=$here/ubsan.supp:halt_on_error=1:print_stacktrace=1"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"
failed=""
for target in $targets; do
  corpus="$out/$target/corpus"
  mkdir -p "$corpus"
  cp "$here/corpus/$target/"* "$corpus/"
  echo "== $target: ${seconds}s, log $out/$target/log"
  # -artifact_prefix keeps crash-* files out of the working directory.
  if "$build/tests/fuzz/$target" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=25 \
       -print_final_stats=1 -artifact_prefix="$out/$target/" "$corpus" >"$out/$target/log" 2>&1; then
    grep -E '^#[0-9]+[[:space:]]+DONE' "$out/$target/log" | tail -1 || true
  else
    failed="$failed $target"
    tail -n 40 "$out/$target/log"
    for input in "$out/$target/"crash-* "$out/$target/"leak-* "$out/$target/"timeout-* "$out/$target/"oom-*; do
      if [ -e "$input" ]; then echo "input: $input"; fi
    done
  fi
done

if [ -n "$failed" ]; then
  echo "FAILED:$failed (inputs and logs under $out)" >&2
  exit 1
fi
echo "all fuzz targets ran ${seconds}s without a crash (corpora under $out)"
