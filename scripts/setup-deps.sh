#!/usr/bin/env bash
# Installs what mtlsprobe needs on a fresh Debian 12 machine (run as root).
# Usage: setup-deps.sh [build|test]   (default: test, which includes build)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
kind="${1:-test}"

lists=("$here/packages-build.txt")
[ "$kind" = test ] && lists+=("$here/packages-test.txt")
wanted=$(grep -hv '^\s*#' "${lists[@]}" | awk 'NF{print $1}')

missing=()
for package in $wanted; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "setup-deps: all ${kind} packages present"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "setup-deps: missing packages: ${missing[*]}; run as root (or with sudo)" >&2
  exit 2
fi
echo "setup-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
