#!/usr/bin/env bash
# `serve` memory over many handshakes: its resident set sampled every
# INTERVAL seconds while `mtlsprobe load` drives it, first for COUNT
# handshakes with revocation off (does RSS stay flat?), then for SECONDS
# with revocation on against a responder that never answers (a listener
# that accepts no connection: every CRL and OCSP fetch waits for its
# timeout), where unanswered judgements must not pile up without bound.
# Not part of the tests: measured here, never asserted.
#
#   bash bench/rss.sh                      # 100,000 handshakes, then 60 s dead responder
#   COUNT=20000 SECONDS_DEAD=30 INTERVAL=2 bash bench/rss.sh
#
# serve is the Lync pool of a P-256 lab (--threads 2, --no-aia, reports in
# JSON to /dev/null); load is a closed loop of 16 connections, 1 thread,
# TLS 1.3, no resumption. Both share the machine's cores.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
count=${COUNT:-100000}
dead_seconds=${SECONDS_DEAD:-60}
interval=${INTERVAL:-5}
bin=${MTLSPROBE:-$root/build/probe/mtlsprobe}
[[ -x $bin ]] || { echo "bench: build mtlsprobe first (scripts/build.sh)" >&2; exit 2; }
command -v curl >/dev/null || { echo "bench: curl is not installed" >&2; exit 2; }
source "$(dirname "$0")/common.sh"
bench_begin rss

metric() {  # metric PORT NAME: the sum of a family's samples
  curl -s "http://127.0.0.1:$1/metrics" |
    awk -v name="$2" '$1 ~ "^"name"({|$)" { sum += $NF } END { printf "%d", sum }'
}

# sample SERVER_PID METRICS_PORT LOAD_PID: one line per INTERVAL until load ends.
sample() {
  local started=$SECONDS
  printf '  %8s %12s %10s %10s %10s\n' "s" handshakes unjudged waiting "RSS MiB"
  while kill -0 "$3" 2>/dev/null; do
    printf '  %8d %12d %10d %10d %10s\n' $((SECONDS - started)) \
      "$(metric "$2" mtlsprobe_serve_handshakes_total)" \
      "$(metric "$2" mtlsprobe_serve_unjudged_total)" \
      "$(metric "$2" mtlsprobe_serve_judgements_waiting)" "$(rss_mib_of "$1")"
    sleep "$interval"
  done
  printf '  %8d %12d %10d %10d %10s  (load ended)\n' $((SECONDS - started)) \
    "$(metric "$2" mtlsprobe_serve_handshakes_total)" \
    "$(metric "$2" mtlsprobe_serve_unjudged_total)" \
    "$(metric "$2" mtlsprobe_serve_judgements_waiting)" "$(rss_mib_of "$1")"
}

# start_serve LAB EXTRA...: sets server, port, metrics_port.
start_serve() {
  local lab=$1
  shift
  port=$(free_port)
  metrics_port=$(free_port)
  "$bin" serve --store "$lab/lync" --listen "127.0.0.1:$port" --threads 2 --no-aia \
    --metrics-listen "127.0.0.1:$metrics_port" --format json "$@" \
    >/dev/null 2>"$work/serve.log" &
  server=$!
  pids+=("$server")
  wait_port "$port"
  wait_port "$metrics_port"
}

echo "mtlsprobe serve RSS, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores," \
  "load average $(cut -d' ' -f1-3 /proc/loadavg), $(openssl version | cut -d' ' -f1-2)"

# 1. COUNT handshakes, revocation off.
lab=$work/lab
"$bin" pki init "$lab" --key-type ecdsa-p256 >/dev/null
start_serve "$lab" --no-revocation-check --no-revocation
echo "$count handshakes, revocation off; RSS at start $(rss_mib_of "$server") MiB"
"$bin" load "127.0.0.1:$port" --store "$lab/bems" --count "$count" --connections 16 --threads 1 \
  --tls1.3 --verdict-wait 0 --format json -o "$work/load.json" >/dev/null 2>&1 &
load_pid=$!
sample "$server" "$metrics_port" "$load_pid"
wait "$load_pid" || true
kill "$server" && wait "$server" 2>/dev/null || true

# 2. A revocation responder that never answers: a listener (perl, in every
# Debian) that accepts nothing, at the URLs the lab's certificates name.
dead_port=$(free_port)
perl -MIO::Socket::INET -e '
  my $s = IO::Socket::INET->new(Listen => 1024, LocalAddr => "127.0.0.1:$ARGV[0]", ReuseAddr => 1)
    or die "listen: $!";
  sleep' "$dead_port" &
pids+=($!)
wait_port "$dead_port"
dead_lab=$work/dead-lab
"$bin" pki init "$dead_lab" --key-type ecdsa-p256 \
  --revocation-url "http://127.0.0.1:$dead_port" >/dev/null
start_serve "$dead_lab"
echo "$dead_seconds s against a revocation responder that never answers (revocation on," \
  "in the handshake and in the judgement); RSS at start $(rss_mib_of "$server") MiB"
"$bin" load "127.0.0.1:$port" --store "$dead_lab/bems" --duration "$dead_seconds" \
  --connections 16 --threads 1 --tls1.3 --verdict-wait 0 --format json -o "$work/load-dead.json" \
  >/dev/null 2>&1 &
load_pid=$!
sample "$server" "$metrics_port" "$load_pid"
wait "$load_pid" || true
stop_started=$(date +%s%N)
kill "$server"
wait "$server" 2>/dev/null || true
echo "  serve stopped $((($(date +%s%N) - stop_started) / 1000000)) ms after SIGTERM:" \
  "$(grep -o 'stopped after.*' "$work/serve.log" | tail -1)"
