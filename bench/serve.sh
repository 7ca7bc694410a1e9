#!/usr/bin/env bash
# `serve` handshake rate and CPU per handshake with --threads 1 and 2, under
# a closed loop of 16 connections (16 `openssl s_time -new` loops, each one
# mutual handshake after another, no resumption) for DURATION seconds. Not
# part of the tests: timings are measured here, never asserted.
#
#   bash bench/serve.sh              # 10 s per case
#   DURATION=20 bash bench/serve.sh
#   REVOCATION=1 bash bench/serve.sh # revocation on, answered by a local pki serve
#
# serve runs as the Lync pool of a P-256 lab with --no-aia (and --no-revocation
# unless REVOCATION=1); reports go to /dev/null. The clients share the same 2
# cores, so hs/s is what the machine does with both sides on it; the server's
# CPU per handshake is its own /proc time over the handshakes it counted
# (its metrics). The judged/unjudged split shows whether the reports kept up:
# after the clients stop, serve is given up to 30 s to finish the judgements
# still queued, and "judged %" is the share of the handshakes that got a report
# (issue 17's goal with revocation on: 95% or more); "rev. answer %" the
# share whose bems.revocation has a real answer (good or revoked), needs jq.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
duration=${DURATION:-10}
connections=${CONNECTIONS:-16}
bin=${MTLSPROBE:-$root/build/probe/mtlsprobe}
[[ -x $bin ]] || { echo "bench: build mtlsprobe first (scripts/build.sh)" >&2; exit 2; }
command -v openssl >/dev/null || { echo "bench: openssl is not installed" >&2; exit 2; }
command -v jq >/dev/null || { echo "bench: jq is not installed" >&2; exit 2; }
source "$(dirname "$0")/common.sh"
bench_begin serve

key=${KEY:-ecdsa-p256}
lab=$work/lab
pki_port=$(free_port)
"$bin" pki init "$lab" --key-type "$key" --revocation-url "http://127.0.0.1:$pki_port" >/dev/null
revocation=(--no-revocation)
if [[ ${REVOCATION:-0} == 1 ]]; then
  "$bin" pki serve "$lab" --listen "127.0.0.1:$pki_port" >"$work/pki.log" 2>&1 &
  pids+=($!)
  wait_port "$pki_port"
  revocation=()
fi

metric() {  # metric PORT NAME: the sum of a family's samples
  curl -s "http://127.0.0.1:$1/metrics" | awk -v name="$2" '$1 ~ "^"name"({|$)" { sum += $NF } END { printf "%d", sum }'
}

echo "mtlsprobe serve: $key, $connections connections closed loop, ${duration} s per case," \
  "$(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $(openssl version | cut -d' ' -f1-2)," \
  "revocation ${REVOCATION:-0}"
printf '  %-12s %10s %14s %10s %10s %9s %12s\n' case "hs/s" "server CPU/hs" judged unjudged \
  "judged %" "rev. answer %"
for threads in 1 2; do
  port=$(free_port)
  metrics_port=$(free_port)
  "$bin" serve --store "$lab/lync" --listen "127.0.0.1:$port" --threads "$threads" --no-aia \
    "${revocation[@]}" --metrics-listen "127.0.0.1:$metrics_port" --format json \
    >"$work/reports-$threads.json" 2>"$work/serve-$threads.log" &
  server=$!
  pids+=($server)
  wait_port "$port"
  wait_port "$metrics_port"
  cpu_before=$(cpu_of "$server")
  clients=()
  for _ in $(seq 1 "$connections"); do
    openssl s_time -connect "127.0.0.1:$port" -new -time "$duration" \
      -cert "$lab/bems/personal/bems.crt" -key "$lab/bems/personal/bems.key" >/dev/null 2>&1 &
    clients+=($!)
  done
  start=$(date +%s.%N)
  wait "${clients[@]}" || true
  elapsed=$(echo "$(date +%s.%N) - $start" | bc -l)
  for _ in $(seq 1 300); do
    [[ $(metric "$metrics_port" mtlsprobe_serve_judgements_waiting) == 0 ]] && break
    sleep 0.1
  done
  cpu_after=$(cpu_of "$server")  # the judgements of the last handshakes included
  handshakes=$(metric "$metrics_port" mtlsprobe_serve_handshakes_total)
  unjudged=$(metric "$metrics_port" mtlsprobe_serve_unjudged_total)
  kill "$server"; wait "$server" 2>/dev/null || true
  # Reports whose bems.revocation has a real answer (pass: good, fail:
  # revoked), not skipped or unavailable.
  answered=$(jq -s '[.[] | .findings[] | select(.id == "bems.revocation")
    | select(.status == "pass" or .status == "fail")] | length' "$work/reports-$threads.json")
  awk -v n="$handshakes" -v s="$elapsed" -v c0="$cpu_before" -v c1="$cpu_after" -v u="$unjudged" \
    -v a="$answered" -v t="--threads $threads" 'BEGIN {
      printf "  %-12s %10.1f %11.0f us %10d %10d %8.1f%% %12.1f%%\n", t, n / s,
        n ? (c1 - c0) / n * 1e6 : 0, n - u, u, n ? (n - u) * 100 / n : 0, n ? a * 100 / n : 0 }'
done
