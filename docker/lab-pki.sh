#!/bin/sh
# The lab's one-shot `pki` service: issues the lab PKI into /lab for the
# scenario the environment names (POOL, INSTANCES, LYNC_POOL, FLAW), and keeps
# a lab already issued for the same scenario, so a second `up` tests against
# the certificates the running servers already hold. With ROLLOVER it also
# makes the next BEMS certificate (/lab/next, `pki reissue`) for the
# `rollover` service to rehearse; without it /lab/next is removed.
#
# Exit codes: 0 lab ready; 3 FLAW or ROLLOVER names no scenario (one line says
# which exist: neither a verdict, 1, nor mtlsprobe's bad input, 2); others
# from mtlsprobe.
set -eu

lab=${LAB_DIR:-/lab}
flaw=${FLAW:-}
known_flaws=$(mtlsprobe pki flaws | awk 'NR > 1 { print $1 }')
if [ -n "$flaw" ] && [ "$flaw" != revoked ] &&
  ! printf '%s\n' "$known_flaws" | grep -qxF -- "$flaw"; then
  echo "lab: unknown scenario FLAW=$flaw; use one of:" $known_flaws "revoked, or none for the clean lab" >&2
  exit 3
fi

# ROLLOVER: how the next certificate differs from the current one.
rollover=${ROLLOVER:-}
case "$rollover" in
  "" | same-ca) reissue_options= ;;
  new-issuing-ca) reissue_options="--new-issuing-ca" ;;
  new-root) reissue_options="--new-root" ;;
  other-template) reissue_options="--other-template" ;;
  ecdsa-p256) reissue_options="--key-type ecdsa-p256" ;;
  *)
    if printf '%s\n' "$known_flaws" | grep -qxF -- "$rollover"; then
      reissue_options="--flaw $rollover"
    else
      echo "lab: unknown scenario ROLLOVER=$rollover; use one of: same-ca new-issuing-ca new-root" \
        "other-template ecdsa-p256 or a flaw a next certificate can have (mtlsprobe pki reissue --help)," \
        "or none for no next certificate" >&2
      exit 3
    fi
    ;;
esac

# The next certificate, made after the lab it renews and kept as long as
# both are the same scenario (a new CA it brings is what pki-http serves).
reissue() {
  next_scenario="$scenario rollover=$rollover"
  if [ -n "$rollover" ] && [ -d "$lab/next" ] && [ -f "$lab/next-scenario" ] &&
    [ "$(cat "$lab/next-scenario")" = "$next_scenario" ]; then
    echo "lab: keeping the next certificate made for ROLLOVER=$rollover"
    return 0
  fi
  rm -rf "$lab/next" "$lab/next.pfx" "$lab/next-scenario"
  [ -n "$rollover" ] || return 0
  # shellcheck disable=SC2086 # the option list is split on purpose
  mtlsprobe pki reissue "$lab" $reissue_options
  printf '%s\n' "$next_scenario" >"$lab/next-scenario"
  echo "lab: next certificate made for ROLLOVER=$rollover"
}

scenario="pool=$POOL instances=$INSTANCES lync-pool=$LYNC_POOL flaw=${flaw:-none}"
if [ -f "$lab/scenario" ] && [ -f "$lab/lab.json" ] && [ "$(cat "$lab/scenario")" = "$scenario" ]; then
  echo "lab: keeping the lab issued for $scenario"
  reissue
  exit 0
fi

instances=
for instance in $(echo "$INSTANCES" | tr , ' '); do
  instances="$instances --instance $instance"
done
flaw_option=
[ -z "$flaw" ] || [ "$flaw" = revoked ] || flaw_option="--flaw $flaw"
rm -f "$lab/scenario" "$lab/next-scenario"
# shellcheck disable=SC2086 # the option lists are split on purpose
mtlsprobe pki init "$lab" --force --pool "$POOL" --lync-pool "$LYNC_POOL" \
  --revocation-url http://pki-http:8080 $instances $flaw_option
if [ "$flaw" = revoked ]; then
  mtlsprobe pki revoke "$lab" "$lab/bems/personal/bems.crt" --reason keyCompromise
fi
reissue
# Written last: an interrupted issue is never kept.
printf '%s\n' "$scenario" >"$lab/scenario"
echo "lab: issued for $scenario"
