#!/usr/bin/env bash
# Fleet scan speed: `mtlsprobe connect --targets FILE` over N targets on
# loopback against a loop of `openssl s_client` over the same list, in the
# same run, for an RSA-2048 and a P-256 lab. Not part of the tests: timings
# are measured here, never asserted.
#
#   bash bench/fleet.sh            # 1000 targets
#   bash bench/fleet.sh 200        # fewer
#   MTLSPROBE=/path/to/mtlsprobe CONCURRENCY=16 bash bench/fleet.sh
#
# The peer is one `openssl s_server` on 127.0.0.1 and every target line dials
# it (N separate mutual-TLS handshakes, each fully diagnosed). The lab's CRL,
# OCSP and caIssuers URLs point at a `pki serve` on loopback, so revocation is
# checked for real; the run shares those answers (the same CA is asked once).
# Both sides negotiate TLS 1.2, as Lync/Skype on Windows Server 2019 and
# earlier do: TLS 1.3 would add the client's wait for the server's verdict.
# Prints wall time, targets/s, CPU per target (client, and the server's),
# and mtlsprobe's peak memory at N/4 and N targets.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
count=${1:-1000}
[[ $count =~ ^[1-9][0-9]*$ ]] || { echo "bench: count must be a positive number, not '$count'" >&2; exit 2; }
concurrency=${CONCURRENCY:-16}
bin=${MTLSPROBE:-$root/build/probe/mtlsprobe}
[[ -x $bin ]] || { echo "bench: build mtlsprobe first (scripts/build.sh)" >&2; exit 2; }
command -v openssl >/dev/null || { echo "bench: openssl is not installed" >&2; exit 2; }
source "$(dirname "$0")/common.sh"
bench_begin fleet

echo "mtlsprobe fleet scan: $count targets, --concurrency $concurrency, $(nproc) cores, $(openssl version)"
printf '  %-40s %8s %10s %12s %12s %10s\n' case "wall s" targets/s "client ms" "server ms" "peak MiB"

for key in rsa2048 ecdsa-p256; do
  lab=$work/lab-$key
  pki_port=$(free_port)
  "$bin" pki init "$lab" --key-type "$key" --revocation-url "http://127.0.0.1:$pki_port" >/dev/null
  "$bin" pki serve "$lab" --listen "127.0.0.1:$pki_port" >"$work/pki-$key.log" 2>&1 &
  pids+=($!)
  wait_port "$pki_port"
  root_ca=$(ls "$lab"/bems/trusted-root/*.crt | head -1)
  issuing_ca=$(ls "$lab"/lync/intermediate/*.crt | head -1)
  port=$(free_port)
  openssl s_server -quiet -accept "127.0.0.1:$port" -Verify 2 -verify_return_error \
    -CAfile "$root_ca" -cert "$lab/lync/personal/lync.crt" -key "$lab/lync/personal/lync.key" \
    -cert_chain "$issuing_ca" -tls1_2 >"$work/s_server-$key.log" 2>&1 &
  server=$!
  pids+=("$server")
  wait_port "$port"

  for n in $((count / 4 > 0 ? count / 4 : 1)) "$count"; do
    targets=$work/targets-$n.txt
    for ((i = 0; i < n; i++)); do echo "127.0.0.1:$port sni=lyncpool.example.com"; done >"$targets"
    before=$(cpu_of "$server")
    /usr/bin/time -f "%e %U %S %M" -o "$work/time" "$bin" connect --targets "$targets" \
      --store "$lab/bems" --expect-name lyncpool.example.com --tls-max 1.2 \
      --concurrency "$concurrency" --format json -o "$work/fleet.json" 2>"$work/fleet.err" || true
    after=$(cpu_of "$server")
    read -r wall user sys rss <"$work/time"
    rows=$(grep -c '"target":' "$work/fleet.json" || true)
    [[ $rows -ge $n ]] || { echo "bench: the report has $rows targets, expected $n" >&2; cat "$work/fleet.err" >&2; exit 1; }
    awk -v l="mtlsprobe $key, $n targets" -v w="$wall" -v u="$user" -v s="$sys" -v m="$rss" \
      -v n="$n" -v b="$before" -v a="$after" 'BEGIN {
        printf "  %-40s %8.2f %10.1f %12.2f %12.2f %10.1f\n", l, w, n / w, (u + s) * 1000 / n,
          (a - b) * 1000 / n, m / 1024 }'
  done

  # The same list, one openssl s_client process per target.
  before=$(cpu_of "$server")
  /usr/bin/time -f "%e %U %S %M" -o "$work/time" bash -c '
    while read -r _; do
      openssl s_client -connect "127.0.0.1:'"$port"'" -tls1_2 -servername lyncpool.example.com \
        -CAfile "'"$root_ca"'" -verify_return_error -cert "'"$lab"'/bems/personal/bems.crt" \
        -key "'"$lab"'/bems/personal/bems.key" -cert_chain "'"$issuing_ca"'" \
        </dev/null >/dev/null 2>&1 || true
    done <"'"$targets"'"'
  after=$(cpu_of "$server")
  read -r wall user sys rss <"$work/time"
  awk -v l="openssl s_client loop $key, $count" -v w="$wall" -v u="$user" -v s="$sys" -v m="$rss" \
    -v n="$count" -v b="$before" -v a="$after" 'BEGIN {
      printf "  %-40s %8.2f %10.1f %12.2f %12.2f %10.1f\n", l, w, n / w, (u + s) * 1000 / n,
        (a - b) * 1000 / n, m / 1024 }'
  kill "$server" 2>/dev/null && wait "$server" 2>/dev/null || true
done
echo "client ms / server ms: CPU per target (user + system); peak MiB: mtlsprobe's maximum RSS"
