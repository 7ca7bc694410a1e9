#!/usr/bin/env bash
# The README's test command: installs what is missing, builds with warnings
# as errors, checks formatting and runs every test with CTest.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bash "$root/scripts/setup-deps.sh" test
bash "$root/scripts/format.sh" --check
bash "$root/scripts/build.sh"
cd "${BUILD_DIR:-$root/build}"
ctest --output-on-failure -j"$(nproc)"
