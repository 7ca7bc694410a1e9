#!/usr/bin/env bash
# Builds the tests that run threads (serve's handshake and judgement threads,
# load, the fleet scan, the exporter, the shared revocation cache) with
# ThreadSanitizer into build-tsan/ and runs them; any data race fails the run.
# Not in .ci/run: a fresh ThreadSanitizer build of these targets alone takes
# far longer than the 3 minutes left in CI's budget on 2 cores.
# Usage: tsan.sh [ctest -R pattern]   BUILD_DIR=... to choose the folder.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${BUILD_DIR:-$root/build-tsan}"
tests=(test_serve_hostile test_load test_fleet test_exporter test_revocation test_handshake
  test_sip_live test_live)
pattern="${1:-^($(IFS='|'; echo "${tests[*]}"))\$}"
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
cmake -S "$root" -B "$build" "${launcher[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DMTLSPROBE_WERROR=ON -DMTLSPROBE_TSAN=ON >/dev/null
cmake --build "$build" -j"$(nproc)" --target mtlsprobe "${tests[@]}"
# halt_on_error: the first race fails its test, with both stacks printed.
# second_deadlock_stack: lock-order reports name where each lock was taken.
export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 ${TSAN_OPTIONS:-}"
cd "$build" && ctest --output-on-failure -j"$(nproc)" -R "$pattern"
