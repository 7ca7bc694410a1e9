# Sourced by the bench scripts: a work folder that goes away on exit with
# every process in pids[], loopback port helpers, and /proc readings.
# Usage: source "$(dirname "$0")/common.sh"; bench_begin NAME

bench_begin() {
  work=$(mktemp -d "/tmp/mtlsprobe-$1.XXXXXX")
  pids=()
  trap bench_cleanup EXIT
}

bench_cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; done
  rm -rf "$work"
}

# A loopback port nothing listens on.
free_port() {
  local candidate
  while :; do
    candidate=$((20000 + RANDOM % 40000))
    (exec 3<>"/dev/tcp/127.0.0.1/$candidate") 2>/dev/null || { echo "$candidate"; return; }
  done
}

# Waits (10 s at most) until something listens on 127.0.0.1:PORT.
wait_port() {
  for _ in $(seq 1 200); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return
    sleep 0.05
  done
  echo "bench: nothing listens on 127.0.0.1:$1" >&2
  exit 1
}

# CPU seconds (user + system) a process has used so far.
cpu_of() { awk -v t="$(getconf CLK_TCK)" '{ printf "%.3f", ($14 + $15) / t }' "/proc/$1/stat"; }
# Its resident memory in MiB.
rss_mib_of() { awk '/^VmRSS/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }
