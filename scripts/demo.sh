#!/usr/bin/env bash
# The README's main command: installs what is missing, builds mtlsprobe and
# runs it on a built-in lab: `mtlsprobe pair` makes a fresh lab PKI in a
# temporary folder and performs real mutual-TLS handshakes over loopback,
# BEMS -> Lync and Lync -> BEMS. Extra arguments go to `pair`
# (e.g. --flaw san-missing-instance, --format json).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bash "$root/scripts/setup-deps.sh" build
bash "$root/scripts/build.sh" >/dev/null
"${BUILD_DIR:-$root/build}/probe/mtlsprobe" pair "$@"
