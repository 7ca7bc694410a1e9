#!/usr/bin/env bash
# Mutual-TLS handshake rate: `mtlsprobe load` against `mtlsprobe serve`,
# nginx (1 worker, ssl_verify_client on) and `openssl s_server`, RSA-2048 and
# P-256 labs, TLS 1.2 and 1.3, each server pinned to core 0 and the load
# client to core 1, rounds interleaved (every server and version once per
# round) so a machine busy with other work slows all of them alike. Then the
# same nginx driven by `mtlsprobe load` and by parallel `openssl s_time -new`
# loops (full handshakes with the client certificate; wrk and h2load cannot
# present one) on the same core, to show whether the load client is the
# bottleneck. Timings are measured here, never asserted in tests.
#
#   bash bench/handshakes.sh                 # 3 rounds of 4 s per case
#   bash bench/handshakes.sh ROUNDS SECONDS
#   MTLSPROBE=/path/to/mtlsprobe bash bench/handshakes.sh
#
# nginx is a bench-only dependency (apt-get install nginx-light); without it
# its rows are left out.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
rounds=${1:-3}
seconds=${2:-4}
[[ $rounds =~ ^[1-9][0-9]*$ ]] || { echo "bench: rounds must be a positive number" >&2; exit 2; }
[[ $seconds =~ ^[1-9][0-9]*$ ]] || { echo "bench: seconds must be a positive number" >&2; exit 2; }
bin=${MTLSPROBE:-$root/build/probe/mtlsprobe}
[[ -x $bin ]] || { echo "bench: build mtlsprobe first (scripts/build.sh)" >&2; exit 2; }
command -v openssl >/dev/null || { echo "bench: openssl is not installed" >&2; exit 2; }
nginx_bin=$(command -v nginx || true)
[[ -n $nginx_bin ]] || echo "bench: nginx is not installed (apt-get install nginx-light): no nginx rows" >&2

source "$(dirname "$0")/common.sh"
bench_begin handshakes

server_core=0
client_core=$(($(nproc) > 1 ? 1 : 0))

# start_serve LAB PORT, start_nginx LAB PORT, start_s_server LAB PORT: each
# pinned to the server core; sets server_pid to the process that does the work.
start_serve() {
  taskset -c "$server_core" "$bin" serve --listen "127.0.0.1:$2" --store "$1/lync" \
    --no-revocation-check >/dev/null 2>"$work/serve-$2.log" &
  pids+=($!)
  server_pid=$!
  for _ in $(seq 1 200); do grep -q "serving as" "$work/serve-$2.log" && return; sleep 0.05; done
  echo "bench: serve did not start" >&2
  exit 1
}

start_nginx() {
  local prefix=$work/nginx-$2
  mkdir -p "$prefix"
  cat "$1/lync/personal/lync.crt" "$1"/lync/intermediate/*.crt >"$prefix/chain.pem"
  cat >"$prefix/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $prefix/nginx.pid;
error_log $prefix/error.log error;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $prefix;
  proxy_temp_path $prefix;
  fastcgi_temp_path $prefix;
  uwsgi_temp_path $prefix;
  scgi_temp_path $prefix;
  server {
    listen 127.0.0.1:$2 ssl;
    ssl_certificate $prefix/chain.pem;
    ssl_certificate_key $1/lync/personal/lync.key;
    ssl_client_certificate $(ls "$1"/lync/trusted-root/*.crt | head -1);
    ssl_verify_client on;
    ssl_verify_depth 4;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_session_tickets off;
    location / { return 200 "ok\n"; }
  }
}
EOF
  taskset -c "$server_core" "$nginx_bin" -p "$prefix" -c "$prefix/nginx.conf" &
  pids+=($!)
  wait_port "$2"
  server_pid=$(pgrep -P "${pids[-1]}" | head -1)
}

start_s_server() {
  taskset -c "$server_core" openssl s_server -accept "127.0.0.1:$2" -quiet -www \
    -cert "$1/lync/personal/lync.crt" -key "$1/lync/personal/lync.key" \
    -cert_chain "$(ls "$1"/lync/intermediate/*.crt | head -1)" -Verify 1 -verify_return_error \
    -CAfile "$(ls "$1"/lync/trusted-root/*.crt | head -1)" >/dev/null 2>&1 &
  pids+=($!)
  server_pid=$!
  wait_port "$2"
}

# load LAB PORT VERSION: one closed-loop run on the client core; prints
# "handshakes/s successful client-CPU-seconds" from its Prometheus output
# and bash's `time`.
load() {
  local TIMEFORMAT='%U %S'
  { time taskset -c "$client_core" "$bin" load "127.0.0.1:$2" --store "$1/bems" --tls"$3" \
    --duration "$seconds" --connections 16 --threads 1 --timeout 5 --format prometheus \
    >"$work/load.prom"; } 2>"$work/load.time"
  awk 'FNR == NR { cpu = $1 + $2; next }
       /^mtlsprobe_load_handshakes_per_second/ { rate = $2 }
       /^mtlsprobe_load_handshakes_total/ && /outcome="success"/ { ok = $2 }
       END { printf "%s %s %s\n", rate, ok, cpu }' "$work/load.time" "$work/load.prom"
}

# s_time_rate LAB PORT VERSION: `openssl s_time -new` processes (as many as
# there are cores) on the client core, their full handshakes per second summed.
s_time_rate() {
  local n clients=() outputs=()
  for ((n = 0; n < 2; n++)); do
    taskset -c "$client_core" openssl s_time -connect "127.0.0.1:$2" -new -time "$seconds" \
      -tls"${3/./_}" -cert "$1/bems/personal/bems.crt" -key "$1/bems/personal/bems.key" \
      >"$work/s_time.$n" 2>&1 &
    clients+=($!)
    outputs+=("$work/s_time.$n")
  done
  wait "${clients[@]}" || true
  # "1234 connections in 4 real seconds, ..."
  awk '/connections in [0-9]+ real seconds/ { sum += $1 / $4 } END { printf "%.1f\n", sum }' \
    "${outputs[@]}"
}

# median and spread of a list of numbers: "median min-max".
stats() {
  printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END {
    printf "%.0f %.0f-%.0f\n", (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2), v[1], v[NR] }'
}

servers=(serve s_server)
[[ -n $nginx_bin ]] && servers=(serve nginx s_server)
declare -A rate cpu client
declare -A port

for key in rsa2048 ecdsa-p256; do
  lab=$work/lab-$key
  "$bin" pki init "$lab" --key-type "$key" >/dev/null
  first_server=${#pids[@]}
  for server in "${servers[@]}"; do
    port[$key-$server]=$(free_port)
    "start_$server" "$lab" "${port[$key-$server]}"
    declare -g "pid_${key//-/_}_$server=$server_pid"
  done
  for ((round = 1; round <= rounds; round++)); do
    for server in "${servers[@]}"; do
      for version in 1.2 1.3; do
        pid_var="pid_${key//-/_}_$server"
        before=$(cpu_of "${!pid_var}")
        read -r hs ok client_cpu < <(load "$lab" "${port[$key-$server]}" "$version")
        after=$(cpu_of "${!pid_var}")
        rate[$key-$version-$server]+="$hs "
        cpu[$key-$version-$server]+="$(awk -v a="$after" -v b="$before" -v n="$ok" \
          'BEGIN { printf "%.0f", (n > 0 ? (a - b) * 1e6 / n : 0) }') "
        client[$key-$version-$server]+="$(awk -v c="$client_cpu" -v n="$ok" \
          'BEGIN { printf "%.0f", (n > 0 ? c * 1e6 / n : 0) }') "
        echo "bench: $key TLS $version $server round $round: $hs hs/s" >&2
      done
    done
    if [[ -n $nginx_bin ]]; then
      for version in 1.2 1.3; do
        s_time=$(s_time_rate "$lab" "${port[$key-nginx]}" "$version")
        rate[$key-$version-s_time]+="$s_time "
        echo "bench: $key TLS $version nginx driven by s_time round $round: $s_time hs/s" >&2
      done
    fi
  done
  for pid in "${pids[@]:first_server}"; do kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true; done
  pids=("${pids[@]:0:first_server}")
done

echo "Handshake rate, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores ($(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)), load average $(cut -d' ' -f1-3 /proc/loadavg), $(openssl version | cut -d' ' -f1-2)"
echo "mtlsprobe load: closed loop, 16 connections, 1 thread on core $client_core; server on core $server_core; $rounds rounds of $seconds s; median (min-max)"
echo
echo "| key, TLS | server | handshakes/s | server CPU us/handshake | load client CPU us/handshake |"
echo "|---|---|---|---|---|"
for key in rsa2048 ecdsa-p256; do
  for version in 1.3 1.2; do
    for server in "${servers[@]}"; do
      # shellcheck disable=SC2086
      read -r median spread < <(stats ${rate[$key-$version-$server]})
      # shellcheck disable=SC2086
      read -r cpu_median _ < <(stats ${cpu[$key-$version-$server]})
      # shellcheck disable=SC2086
      read -r client_median _ < <(stats ${client[$key-$version-$server]})
      echo "| ${key/rsa2048/RSA-2048} TLS $version | $server | $median ($spread) | $cpu_median | $client_median |" |
        sed 's/ecdsa-p256/P-256/'
    done
  done
done
if [[ -n $nginx_bin ]]; then
  echo
  echo "| key, TLS | nginx driven by mtlsprobe load | by 2 x openssl s_time -new | load / s_time |"
  echo "|---|---|---|---|"
  for key in rsa2048 ecdsa-p256; do
    for version in 1.3 1.2; do
      # shellcheck disable=SC2086
      read -r ours _ < <(stats ${rate[$key-$version-nginx]})
      # shellcheck disable=SC2086
      read -r theirs spread < <(stats ${rate[$key-$version-s_time]})
      echo "| ${key/rsa2048/RSA-2048} TLS $version | $ours | $theirs ($spread) | $(awk -v a="$ours" -v b="$theirs" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }') |" |
        sed 's/ecdsa-p256/P-256/'
    done
  done
fi
