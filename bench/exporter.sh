#!/usr/bin/env bash
# The exporter under load, side by side with Debian's blackbox_exporter
# probing the same peer in the same run: one `mtlsprobe serve` on loopback
# with a P-256 lab, wrk asking each exporter's /probe as fast as it answers.
# Prints probes/s, latency, CPU per probe and the exporter's resident memory
# before and after. Not part of the tests: measured here, never asserted.
#
#   bash bench/exporter.sh              # 30 s per exporter
#   bash bench/exporter.sh 100          # longer (10,000 probes take ~100 s at 100/s)
#   CONNECTIONS=8 bash bench/exporter.sh
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
seconds=${1:-30}
[[ $seconds =~ ^[1-9][0-9]*$ ]] || { echo "bench: seconds must be a positive number" >&2; exit 2; }
connections=${CONNECTIONS:-4}
bin=${MTLSPROBE:-$root/build/probe/mtlsprobe}
[[ -x $bin ]] || { echo "bench: build mtlsprobe first (scripts/build.sh)" >&2; exit 2; }
for tool in wrk prometheus-blackbox-exporter curl; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is not installed" >&2; exit 2; }
done

source "$(dirname "$0")/common.sh"
bench_begin bench-exporter

lab=$work/lab
"$bin" pki init "$lab" --key-type ecdsa-p256 >/dev/null

peer=$(free_port)
# The lab's revocation URLs name pki.example.com: nothing is fetched.
"$bin" serve --store "$lab/lync" --listen "127.0.0.1:$peer" --no-revocation --no-aia \
  --format json >/dev/null 2>"$work/serve.log" &
serve_pid=$!
pids+=("$serve_pid")
wait_port "$peer"

exporter=$(free_port)
cat >"$work/exporter.toml" <<TOML
targets = ["127.0.0.1:$peer"]
max_concurrent_probes = $connections
[module.lab]
store = "$lab/bems"
expect-name = "lyncpool.example.com"
no-revocation = true
no-aia = true
timeout = 5
TOML
"$bin" exporter --config "$work/exporter.toml" --listen "127.0.0.1:$exporter" >/dev/null 2>&1 &
exporter_pid=$!
pids+=("$exporter_pid")
wait_port "$exporter"

blackbox=$(free_port)
cat >"$work/blackbox.yml" <<YAML
modules:
  mtls:
    prober: tcp
    timeout: 5s
    tcp:
      tls: true
      tls_config:
        ca_file: $(ls "$lab"/bems/trusted-root/*.crt | head -1)
        cert_file: $lab/bems/personal/bems.crt
        key_file: $lab/bems/personal/bems.key
        server_name: lyncpool.example.com
YAML
prometheus-blackbox-exporter --config.file="$work/blackbox.yml" \
  --web.listen-address="127.0.0.1:$blackbox" >"$work/blackbox.log" 2>&1 &
blackbox_pid=$!
pids+=("$blackbox_pid")
wait_port "$blackbox"

mtls_url="http://127.0.0.1:$exporter/probe?target=127.0.0.1:$peer&module=lab"
blackbox_url="http://127.0.0.1:$blackbox/probe?target=127.0.0.1:$peer&module=mtls"
curl -sf "$mtls_url" | grep -q '^mtlsprobe_probe_success 1$' ||
  { echo "bench: the mtlsprobe exporter's probe does not succeed" >&2; exit 1; }
curl -sf "$blackbox_url" | grep -q '^probe_success 1$' ||
  { echo "bench: blackbox_exporter's probe does not succeed" >&2; exit 1; }

echo "$seconds s per exporter, $connections connections, one mtlsprobe serve (P-256 lab) on loopback"
printf '  %-28s %9s %9s %9s %12s %12s %14s\n' exporter "probes/s" "p50 ms" "p99 ms" \
  "CPU ms/probe" "+serve CPU" "RSS MiB"
# run NAME PID URL: wrk for $seconds against URL; CPU of the exporter and of
# the peer per probe, resident memory before -> after.
run() {
  local name=$1 pid=$2 url=$3
  local rss_before cpu_before serve_before
  rss_before=$(rss_mib_of "$pid")
  cpu_before=$(cpu_of "$pid")
  serve_before=$(cpu_of "$serve_pid")
  wrk -t2 -c"$connections" -d"${seconds}s" --latency --timeout 10s "$url" >"$work/wrk-$name.txt"
  local cpu_after serve_after rss_after
  cpu_after=$(cpu_of "$pid")
  serve_after=$(cpu_of "$serve_pid")
  rss_after=$(rss_mib_of "$pid")
  awk -v name="$name" -v cb="$cpu_before" -v ca="$cpu_after" -v sb="$serve_before" \
    -v sa="$serve_after" -v rb="$rss_before" -v ra="$rss_after" '
    /requests in/ { probes = $1 }
    /Requests\/sec/ { rate = $2 }
    $1 == "50%" { p50 = $2 } $1 == "99%" { p99 = $2 }
    /Non-2xx/ { bad = $NF }
    function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; return v * 1000 }
    END {
      printf "  %-28s %9.1f %9.1f %9.1f %12.2f %12.2f %6.1f -> %5.1f%s\n", name, rate, ms(p50),
        ms(p99), (ca - cb) * 1000 / probes, (sa - sb) * 1000 / probes, rb, ra,
        bad ? "  (" bad " non-2xx)" : ""
    }' "$work/wrk-$name.txt"
}
run "mtlsprobe exporter" "$exporter_pid" "$mtls_url"
run "prometheus-blackbox-exporter" "$blackbox_pid" "$blackbox_url"
run "mtlsprobe exporter (again)" "$exporter_pid" "$mtls_url"
