#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Runs every test of ens: the default meson suite (release build), the suite again under
# AddressSanitizer + UBSan (variants above b3 left out), and the libFuzzer targets for a
# bounded time. Ends with one line: "tests: N passed, M failed".
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD
passed=0
failed=0
log_dir=${ENS_TEST_LOGS:-$root/build-logs}
mkdir -p "$log_dir"

# Adds the counts of one `meson test` run (its summary lines) to the totals.
count_meson() {
  local log=$1 ok fail to xp
  ok=$(sed -n 's/^Ok: *\([0-9]*\).*/\1/p' "$log" | tail -1)
  xp=$(sed -n 's/^Expected Fail: *\([0-9]*\).*/\1/p' "$log" | tail -1)
  fail=$(sed -n 's/^Fail: *\([0-9]*\).*/\1/p' "$log" | tail -1)
  to=$(sed -n 's/^Timeout: *\([0-9]*\).*/\1/p' "$log" | tail -1)
  up=$(sed -n 's/^Unexpected Pass: *\([0-9]*\).*/\1/p' "$log" | tail -1)
  sk=$(sed -n 's/^Skipped: *\([0-9]*\).*/\1/p' "$log" | tail -1)
  passed=$((passed + ${ok:-0} + ${xp:-0}))
  failed=$((failed + ${fail:-0} + ${to:-0} + ${up:-0}))
  # shared/ is always present in CI: a skipped test there is a broken setup.
  if [ "${CI:-}" = true ] && [ "${sk:-0}" != 0 ]; then
    echo "CI: ${sk} test(s) skipped in $log: counted as failed"
    failed=$((failed + sk))
  fi
  if [ -z "$ok" ]; then
    echo "no meson summary in $log: counted as one failure"
    failed=$((failed + 1))
  fi
}

step() { echo; echo "=== $*"; }

step "release build"
if meson setup build --reconfigure >/dev/null 2>&1 || meson setup build; then
  if ninja -C build; then
    step "tests (release)"
    meson test -C build --no-suite slow --num-processes 2 --print-errorlogs \
      2>&1 | tee "$log_dir/release.log"
    count_meson "$log_dir/release.log"
  else
    echo "release build failed"; failed=$((failed + 1))
  fi
else
  echo "meson setup failed"; failed=$((failed + 1))
fi

if [ "${ENS_SKIP_ASAN:-0}" != 1 ]; then
  step "ASan + UBSan build"
  if { meson setup build-asan --reconfigure -Dbuildtype=debugoptimized \
         -Db_sanitize=address,undefined -Db_lundef=false >/dev/null 2>&1 ||
       meson setup build-asan -Dbuildtype=debugoptimized -Db_sanitize=address,undefined \
         -Db_lundef=false; } && ninja -C build-asan; then
    step "tests (ASan + UBSan)"
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
      meson test -C build-asan --no-suite slow --no-suite large --no-suite nosan \
      --num-processes 2 --timeout-multiplier 4 --print-errorlogs \
      2>&1 | tee "$log_dir/asan.log"
    count_meson "$log_dir/asan.log"
  else
    echo "ASan build failed"; failed=$((failed + 1))
  fi
fi

if [ "${ENS_SKIP_FUZZ:-0}" != 1 ]; then
  step "libFuzzer targets (clang)"
  if { CC=clang meson setup build-fuzz --reconfigure -Dfuzzing=true -Dgst=disabled \
         -Dbuildtype=debugoptimized -Db_lundef=false >/dev/null 2>&1 ||
       CC=clang meson setup build-fuzz -Dfuzzing=true -Dgst=disabled \
         -Dbuildtype=debugoptimized -Db_lundef=false; } && ninja -C build-fuzz; then
    meson test -C build-fuzz --suite fuzz --num-processes 2 --print-errorlogs \
      2>&1 | tee "$log_dir/fuzz.log"
    count_meson "$log_dir/fuzz.log"
  else
    echo "fuzz build failed"; failed=$((failed + 1))
  fi
fi

echo
echo "tests: $passed passed, $failed failed"
[ "$failed" = 0 ]
