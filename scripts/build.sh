#!/usr/bin/env bash
# Configures and builds mtlsprobe into build/ (warnings are errors).
# Usage: build.sh [extra cmake args...]   BUILD_DIR=... to choose the folder.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${BUILD_DIR:-$root/build}"
# ccache, when installed, makes a rebuild in a fresh clone (CI) cheap; it changes no output.
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
cmake -S "$root" -B "$build" "${launcher[@]}" -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-RelWithDebInfo}" -DMTLSPROBE_WERROR=ON "$@" >/dev/null
cmake --build "$build" -j"$(nproc)"
