#!/usr/bin/env bash
# The README's main command: installs what is missing, builds mtlsprobe and
# runs it on a built-in lab (a fresh lab PKI in a temporary folder).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bash "$root/scripts/setup-deps.sh" build
bash "$root/scripts/build.sh" >/dev/null
bin="${BUILD_DIR:-$root/build}/probe/mtlsprobe"
lab="$(mktemp -d /tmp/mtlsprobe-lab-XXXXXX)"
trap 'rm -rf "$lab"' EXIT
"$bin" pki init "$lab" --force
"$bin" check --store "$lab/bems" --peer-store "$lab/lync" --pool bemsapppool.example.com \
  --instance bemsserver01.example.com --instance bemsserver02.example.com "$@"
