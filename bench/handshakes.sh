#!/usr/bin/env bash
# Mutual-TLS handshake rate and CPU per handshake, in interleaved rounds (every
# case once per round) so a machine busy with other work slows all of them
# alike; timings are measured here, never asserted in tests.
#
# - One core: `mtlsprobe load` against `mtlsprobe serve --threads 1`, nginx
#   (1 worker, ssl_verify_client on) and `openssl s_server`, each server
#   pinned to core 0 and the load client to core 1; RSA-2048 and P-256 labs,
#   TLS 1.2 and 1.3. Beside them the lean loop (bench/lean_handshakes.cpp,
#   built here with the system compiler): the same full mutual handshakes
#   between two OpenSSL endpoints in memory, the floor for a server's CPU per
#   handshake.
# - Two cores: `serve --threads 2` against nginx with 2 workers, the server on
#   cores 0-1 and, on a 2-core machine, the load client (2 threads) on the
#   same two cores: the client takes CPU from the server, so compare the CPU
#   per handshake beside the rates.
# - The same nginx driven by `mtlsprobe load` and by parallel `openssl s_time
#   -new` loops (full handshakes with the client certificate; wrk and h2load
#   cannot present one), to show whether the load client is the bottleneck.
#
# serve runs as nginx is configured: no revocation checks (--no-revocation-check,
# --no-revocation) and no AIA fetches (--no-aia); it still records and judges
# every handshake and renders its report (to /dev/null).
#
#   bash bench/handshakes.sh                 # 3 rounds of 4 s per case
#   bash bench/handshakes.sh ROUNDS SECONDS
#   CASES="one two" bash bench/handshakes.sh # any of: one two s_time (default all)
#   MTLSPROBE=/path/to/mtlsprobe bash bench/handshakes.sh
#
# nginx is a bench-only dependency (apt-get install nginx-light); without it
# its rows are left out. Without a C++ compiler the lean loop is left out.
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

cases=${CASES:-one two s_time}
has_case() { [[ " $cases " == *" $1 "* ]]; }
server_core=0
client_core=$(($(nproc) > 1 ? 1 : 0))
both_cores=0-$client_core

lean=
if command -v "${CXX:-c++}" >/dev/null; then
  if "${CXX:-c++}" -std=c++20 -O2 -Wall -Wextra -Werror "$root/bench/lean_handshakes.cpp" \
    -o "$work/lean_handshakes" -lssl -lcrypto; then
    lean=$work/lean_handshakes
  else
    echo "bench: the lean loop did not build: no lean rows" >&2
  fi
else
  echo "bench: no C++ compiler (${CXX:-c++}): no lean rows" >&2
fi

# start_serve LAB PORT CORES THREADS, start_nginx LAB PORT CORES WORKERS,
# start_s_server LAB PORT CORES: each on CORES; sets server_pid to the
# process whose CPU (with its children's: nginx's workers) is counted.
start_serve() {
  taskset -c "$3" "$bin" serve --listen "127.0.0.1:$2" --store "$1/lync" --threads "$4" \
    --no-revocation-check --no-revocation --no-aia >/dev/null 2>"$work/serve-$2.log" &
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
worker_processes $4;
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
  taskset -c "$3" "$nginx_bin" -p "$prefix" -c "$prefix/nginx.conf" &
  pids+=($!)
  wait_port "$2"
  server_pid=${pids[-1]}
}

start_s_server() {
  taskset -c "$3" openssl s_server -accept "127.0.0.1:$2" -quiet -www \
    -cert "$1/lync/personal/lync.crt" -key "$1/lync/personal/lync.key" \
    -cert_chain "$(ls "$1"/lync/intermediate/*.crt | head -1)" -Verify 1 -verify_return_error \
    -CAfile "$(ls "$1"/lync/trusted-root/*.crt | head -1)" >/dev/null 2>&1 &
  pids+=($!)
  server_pid=$!
  wait_port "$2"
}

# CPU seconds of a process and its children (nginx's master and workers).
cpu_of_tree() {
  local total child
  total=$(cpu_of "$1")
  for child in $(pgrep -P "$1"); do
    total=$(awk -v a="$total" -v b="$(cpu_of "$child")" 'BEGIN { printf "%.3f", a + b }')
  done
  echo "$total"
}

# load LAB PORT VERSION CORES THREADS: one closed-loop run; prints
# "handshakes/s successful client-CPU-seconds" from its Prometheus output
# and bash's `time`.
load() {
  local TIMEFORMAT='%U %S'
  { time taskset -c "$4" "$bin" load "127.0.0.1:$2" --store "$1/bems" --tls"$3" \
    --duration "$seconds" --connections 16 --threads "$5" --timeout 5 --format prometheus \
    >"$work/load.prom"; } 2>"$work/load.time"
  awk 'FNR == NR { cpu = $1 + $2; next }
       /^mtlsprobe_load_handshakes_per_second/ { rate = $2 }
       /^mtlsprobe_load_handshakes_total/ && /outcome="success"/ { ok = $2 }
       END { printf "%s %s %s\n", rate, ok, cpu }' "$work/load.time" "$work/load.prom"
}

# measure NAME LAB PORT VERSION LOAD-CORES LOAD-THREADS: one load run against
# the server of case NAME; adds its rate, the server's CPU per handshake and
# the client's to the lists of KEY-NAME-VERSION.
measure() {
  local id=$key-$1-$4 pid=${server_of[$1]} before after hs ok client_cpu
  before=$(cpu_of_tree "$pid")
  read -r hs ok client_cpu < <(load "$2" "$3" "$4" "$5" "$6")
  after=$(cpu_of_tree "$pid")
  rate[$id]+="$hs "
  cpu[$id]+="$(awk -v a="$after" -v b="$before" -v n="$ok" \
    'BEGIN { printf "%.0f", (n > 0 ? (a - b) * 1e6 / n : 0) }') "
  client[$id]+="$(awk -v c="$client_cpu" -v n="$ok" \
    'BEGIN { printf "%.0f", (n > 0 ? c * 1e6 / n : 0) }') "
  echo "bench: $id round $round: $hs hs/s" >&2
}

# lean_run LAB VERSION: the lean loop on the server core for $seconds; its
# server's CPU per handshake (the client's runs on the same thread, apart).
lean_run() {
  local lab=$1 handshakes server_us client_us
  cat "$lab/lync/personal/lync.crt" "$lab"/lync/intermediate/*.crt >"$work/lean-server.pem"
  cat "$lab/bems/personal/bems.crt" "$lab"/bems/intermediate/*.crt >"$work/lean-client.pem"
  read -r handshakes server_us client_us < <(taskset -c "$server_core" "$lean" "$2" "$seconds" \
    "$work/lean-server.pem" "$lab/lync/personal/lync.key" \
    "$(ls "$lab"/lync/trusted-root/*.crt | head -1)" "$work/lean-client.pem" \
    "$lab/bems/personal/bems.key" "$(ls "$lab"/bems/trusted-root/*.crt | head -1)")
  cpu[$key-lean-$2]+="$server_us "
  echo "bench: $key-lean-$2 round $round: $handshakes handshakes, server $server_us us each" >&2
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
median() { stats "$@" | cut -d' ' -f1; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
row_name() { echo "${1/rsa2048/RSA-2048} TLS $2" | sed 's/ecdsa-p256/P-256/'; }

# Each case: its start function, the server's cores, its threads (workers),
# the load client's cores and threads.
declare -A setup=(
  [serve]="start_serve $server_core 1 $client_core 1"
  [nginx]="start_nginx $server_core 1 $client_core 1"
  [s_server]="start_s_server $server_core 0 $client_core 1"
  [serve-2]="start_serve $both_cores 2 $both_cores 2"
  [nginx-2]="start_nginx $both_cores 2 $both_cores 2"
)
one=(serve s_server)
two=(serve-2)
if [[ -n $nginx_bin ]]; then
  one=(serve nginx s_server)
  two=(serve-2 nginx-2)
fi
has_case one || one=()
has_case two || two=()
declare -A rate cpu client server_of port

for key in rsa2048 ecdsa-p256; do
  lab=$work/lab-$key
  "$bin" pki init "$lab" --key-type "$key" >/dev/null
  first_server=${#pids[@]}
  for name in "${one[@]}" "${two[@]}"; do
    read -r start cores threads _ _ <<<"${setup[$name]}"
    port[$name]=$(free_port)
    "$start" "$lab" "${port[$name]}" "$cores" "$threads"
    server_of[$name]=$server_pid
  done
  for ((round = 1; round <= rounds; round++)); do
    for version in 1.2 1.3; do
      for name in "${one[@]}" "${two[@]}"; do
        read -r _ _ _ load_cores load_threads <<<"${setup[$name]}"
        measure "$name" "$lab" "${port[$name]}" "$version" "$load_cores" "$load_threads"
      done
      if ((${#one[@]})) && [[ -n $lean ]]; then lean_run "$lab" "$version"; fi
      if has_case s_time && [[ -n ${server_of[nginx]:-} ]] && has_case one; then
        s_time=$(s_time_rate "$lab" "${port[nginx]}" "$version")
        rate[$key-nginx-s_time-$version]+="$s_time "
        echo "bench: $key TLS $version nginx driven by s_time round $round: $s_time hs/s" >&2
      fi
    done
  done
  for pid in "${pids[@]:first_server}"; do kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true; done
  pids=("${pids[@]:0:first_server}")
done

echo "Handshake rate, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores ($(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)), load average $(cut -d' ' -f1-3 /proc/loadavg), $(openssl version | cut -d' ' -f1-2), mtlsprobe $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?')"
echo "mtlsprobe load: closed loop, 16 connections; $rounds rounds of $seconds s; median (min-max)"

# table TITLE CASE...: the rates and CPU per handshake of those cases (and
# the lean loop's after serve's rows).
table() {
  local title=$1 name version median spread
  shift
  echo
  echo "$title"
  echo
  echo "| key, TLS | server | handshakes/s | server CPU us/handshake | load client CPU us/handshake |"
  echo "|---|---|---|---|---|"
  for key in rsa2048 ecdsa-p256; do
    for version in 1.3 1.2; do
      for name in "$@"; do
        # shellcheck disable=SC2086
        read -r median spread < <(stats ${rate[$key-$name-$version]})
        # shellcheck disable=SC2086
        echo "| $(row_name $key $version) | $name | $median ($spread) | $(median ${cpu[$key-$name-$version]}) | $(median ${client[$key-$name-$version]}) |"
      done
      if [[ $1 == serve && -n $lean ]]; then
        # shellcheck disable=SC2086
        echo "| $(row_name $key $version) | lean loop (in memory) | - | $(median ${cpu[$key-lean-$version]}) | - |"
      fi
    done
  done
}

# ratio_table OURS THEIRS [lean]: per key and TLS version, OURS against THEIRS
# in handshakes/s and in CPU per handshake; with "lean", each one's CPU
# against the lean loop's too.
# shellcheck disable=SC2086
ratio_table() {
  local ours=$1 theirs=$2 lean=${3:-} key version ours_cpu theirs_cpu lean_cpu row
  echo
  if [[ -n $lean ]]; then
    echo "| key, TLS | $ours / $theirs handshakes/s | $ours / $theirs CPU per handshake | $ours / lean loop CPU | $theirs / lean loop CPU |"
    echo "|---|---|---|---|---|"
  else
    echo "| key, TLS | $ours / $theirs handshakes/s | $ours / $theirs CPU per handshake |"
    echo "|---|---|---|"
  fi
  for key in rsa2048 ecdsa-p256; do
    for version in 1.3 1.2; do
      ours_cpu=$(median ${cpu[$key-$ours-$version]})
      theirs_cpu=$(median ${cpu[$key-$theirs-$version]})
      row="| $(row_name $key $version) | $(ratio "$(median ${rate[$key-$ours-$version]})" "$(median ${rate[$key-$theirs-$version]})") | $(ratio "$ours_cpu" "$theirs_cpu") |"
      if [[ -n $lean ]]; then
        lean_cpu=$(median ${cpu[$key-lean-$version]:-0})
        row+=" $(ratio "$ours_cpu" "$lean_cpu") | $(ratio "$theirs_cpu" "$lean_cpu") |"
      fi
      echo "$row"
    done
  done
}

# shellcheck disable=SC2086
if ((${#one[@]})); then
  table "One core: server on core $server_core, mtlsprobe load (1 thread) on core $client_core" "${one[@]}"
  if [[ -n $nginx_bin ]]; then ratio_table serve nginx lean; fi
fi
# shellcheck disable=SC2086
if ((${#two[@]})); then
  table "Two cores: serve --threads 2 and nginx with 2 workers on cores $both_cores, mtlsprobe load (2 threads) on the same cores" "${two[@]}"
  if [[ -n $nginx_bin ]]; then ratio_table serve-2 nginx-2; fi
fi
# shellcheck disable=SC2086
if has_case s_time && has_case one && [[ -n $nginx_bin ]]; then
  echo
  echo "| key, TLS | nginx driven by mtlsprobe load | by 2 x openssl s_time -new | load / s_time |"
  echo "|---|---|---|---|"
  for key in rsa2048 ecdsa-p256; do
    for version in 1.3 1.2; do
      ours=$(median ${rate[$key-nginx-$version]})
      read -r theirs spread < <(stats ${rate[$key-nginx-s_time-$version]})
      echo "| $(row_name $key $version) | $ours | $theirs ($spread) | $(ratio "$ours" "$theirs") |"
    done
  done
fi
