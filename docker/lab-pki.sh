#!/bin/sh
# The lab's one-shot `pki` service: issues the lab PKI into /lab for the
# scenario the environment names (POOL, INSTANCES, LYNC_POOL, FLAW), and keeps
# a lab already issued for the same scenario, so a second `up` tests against
# the certificates the running servers already hold.
#
# Exit codes: 0 lab ready; 3 FLAW names no scenario (one line says which exist:
# neither a verdict, 1, nor mtlsprobe's bad input, 2); others from mtlsprobe.
set -eu

lab=${LAB_DIR:-/lab}
flaw=${FLAW:-}
known_flaws=$(mtlsprobe pki flaws | awk 'NR > 1 { print $1 }')
if [ -n "$flaw" ] && [ "$flaw" != revoked ] &&
  ! printf '%s\n' "$known_flaws" | grep -qxF -- "$flaw"; then
  echo "lab: unknown scenario FLAW=$flaw; use one of:" $known_flaws "revoked, or none for the clean lab" >&2
  exit 3
fi

scenario="pool=$POOL instances=$INSTANCES lync-pool=$LYNC_POOL flaw=${flaw:-none}"
if [ -f "$lab/scenario" ] && [ -f "$lab/lab.json" ] && [ "$(cat "$lab/scenario")" = "$scenario" ]; then
  echo "lab: keeping the lab issued for $scenario"
  exit 0
fi

instances=
for instance in $(echo "$INSTANCES" | tr , ' '); do
  instances="$instances --instance $instance"
done
flaw_option=
[ -z "$flaw" ] || [ "$flaw" = revoked ] || flaw_option="--flaw $flaw"
rm -f "$lab/scenario"
# shellcheck disable=SC2086 # the option lists are split on purpose
mtlsprobe pki init "$lab" --force --pool "$POOL" --lync-pool "$LYNC_POOL" \
  --revocation-url http://pki-http:8080 $instances $flaw_option
if [ "$flaw" = revoked ]; then
  mtlsprobe pki revoke "$lab" "$lab/bems/personal/bems.crt" --reason keyCompromise
fi
# Written last: an interrupted issue is never kept.
printf '%s\n' "$scenario" >"$lab/scenario"
echo "lab: issued for $scenario"
