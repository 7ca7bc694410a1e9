#!/usr/bin/env bash
# Builds the Docker lab and runs it for real: the clean lab must pass and one
# flawed lab must fail. There is no Docker engine on CI or the developers'
# machines, so this runs the lab on Podman's Docker-compatible API with
# docker-compose 1.29 (see docker/README.md for what each setting works around).
#
#   bash docker/ci.sh            # everything, as CI runs it
#   LAB_FLAW=expired bash docker/ci.sh   # another flaw as the failing scenario
#
# Scenarios: the clean lab twice in a row without taking it down (both
# directions; revocation answered by the pki-http service), FLAW=$LAB_FLAW
# and FLAW=revoked live (the mock Lync refuses the revoked certificate in
# the handshake with certificate_revoked), the clean lab again (the servers
# are recreated for it), a renewal from the same CA and one under a new root
# through the `rollover` service (ROLLOVER=...), Prometheus probing the Lync
# pool by its FQDN through the exporter, every flaw of `pki flaws` plus revoked through the `check` service (each
# fails with the finding it is about), an unknown FLAW (the pki service
# exits 3), and the docker run recipes of docker/README.md ("With real
# endpoints"), read from the README and run as written.
#
# Stops only what it started: the podman system service it launched and the
# compose project it created (named per run). Images are kept as a cache.
set -Eeuo pipefail

docker_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root_dir=$(dirname "$docker_dir")
lab_flaw=${LAB_FLAW:-untrusted-root}
base_image=docker.io/library/debian:bookworm

work_dir=$(mktemp -d /tmp/mtlsprobe-lab.XXXXXX)
export CONTAINERS_CONF=$docker_dir/containers.conf
export DOCKER_HOST=unix://$work_dir/podman.sock
# One project name per run, so teardown never touches a lab a user started.
export COMPOSE_PROJECT_NAME=mtlsprobeci$$
# The classic builder through the API, which Podman serves in the docker
# image format: the OCI format would drop HEALTHCHECK.
export COMPOSE_DOCKER_CLI_BUILD=0 DOCKER_BUILDKIT=0
# No next certificate unless a phase asks for one (run_rollover).
export ROLLOVER=''
# A Lync pool name other than the default, so the lab is seen to take it from
# the environment: the certificate, the network alias and the SNI dialled.
export LYNC_POOL=${LYNC_POOL:-lyncpool.lab.example}
compose=(docker-compose --project-directory "$docker_dir" -f "$docker_dir/compose.yaml")
podman_service_pid=
healthcheck_driver_pid=
# The README recipes' containers carry this label, so teardown finds them.
recipe_label=mtlsprobe.ci=$COMPOSE_PROJECT_NAME
recipe_serve_pid=

phase_names=()
phase_seconds=()
phase_started=0
begin_phase() {
  phase_started=$(date +%s%N)
  current_phase=$1
  echo
  echo "=== lab: $1"
}
end_phase() {
  phase_names+=("$current_phase")
  phase_seconds+=("$(seconds_since "$phase_started")")
  current_phase=
}
seconds_since() {
  local elapsed_ms=$((($(date +%s%N) - $1) / 1000000))
  printf '%d.%d' $((elapsed_ms / 1000)) $((elapsed_ms % 1000 / 100))
}
print_timings() {
  echo
  echo "=== lab timings (seconds)"
  local i
  for i in "${!phase_names[@]}"; do
    printf '  %-34s %7s\n' "${phase_names[$i]}" "${phase_seconds[$i]}"
  done
  if [[ -n ${current_phase:-} ]]; then
    printf '  %-34s %7s  (stopped here)\n' "$current_phase" \
      "$(seconds_since "$phase_started")"
  fi
  printf '  %-34s %7d\n' total "$SECONDS"
}

teardown() {
  local status=$?
  trap - EXIT INT TERM
  set +e
  print_timings
  if [[ -n $healthcheck_driver_pid ]]; then
    kill "$healthcheck_driver_pid" 2>/dev/null
    wait "$healthcheck_driver_pid" 2>/dev/null
  fi
  if [[ -n $podman_service_pid ]]; then
    ((status == 0)) || show_lync_log
    echo "=== lab: teardown"
    podman ps --all --quiet --filter "label=$recipe_label" | xargs -r podman rm --force \
      >/dev/null 2>&1
    [[ -z $recipe_serve_pid ]] || wait "$recipe_serve_pid" 2>/dev/null
    "${compose[@]}" down --volumes --remove-orphans --timeout 5 >"$work_dir/down.log" 2>&1 ||
      cat "$work_dir/down.log"
    kill "$podman_service_pid" 2>/dev/null
    wait "$podman_service_pid" 2>/dev/null
  fi
  rm -rf "$work_dir"
  exit "$status"
}
trap teardown EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

fail() {
  echo "lab: FAIL: $*" >&2
  exit 1
}

# The mock Lync's own account, with times, whenever the run fails (teardown
# calls it): what it refused, what its revocation check found and when, what
# SIP it answered. A failure under load must be explainable from this alone.
show_lync_log() {
  echo "--- the lync service's log (with times), for the failure above"
  "${compose[@]}" logs --no-color --timestamps lync 2>&1 | sed 's/^/    /'
}

# The set seen to work on these hosts; no recommends, which would pull in
# docker.io and containerd (no engine can run here anyway).
lab_packages=(podman runc conmon netavark aardvark-dns iptables fuse-overlayfs slirp4netns
  catatonit debootstrap docker-compose)
install_missing_packages() {
  local missing=() package
  for package in "${lab_packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' ||
      missing+=("$package")
  done
  command -v npx >/dev/null || missing+=(npm)
  if ((${#missing[@]} == 0)); then
    echo "all present: ${lab_packages[*]}"
    return 0
  fi
  echo "installing ${missing[*]}"
  # Another apt (a developer's, or setup-deps.sh) may hold the dpkg lock:
  # wait for it rather than fail.
  local wait_lock=(-o DPkg::Lock::Timeout=600)
  apt-get "${wait_lock[@]}" update -q
  DEBIAN_FRONTEND=noninteractive apt-get "${wait_lock[@]}" install -y -q --no-install-recommends \
    "${missing[@]}"
}

static_checks() {
  "${compose[@]}" config -q
  (cd "$root_dir" && npx --yes dockerfile-utils lint docker/Dockerfile) | tee "$work_dir/lint.txt"
  # dockerfile-utils reports problems but exits 0; any line it prints is one.
  [[ ! -s $work_dir/lint.txt ]] || fail "docker/Dockerfile has lint findings (above)"
}

start_podman_service() {
  podman system service --time=0 "$DOCKER_HOST" >"$work_dir/podman-service.log" 2>&1 &
  podman_service_pid=$!
  for _ in $(seq 1 100); do
    [[ -S $work_dir/podman.sock ]] && docker_api_ping && return 0
    kill -0 "$podman_service_pid" 2>/dev/null || break
    sleep 0.1
  done
  cat "$work_dir/podman-service.log" >&2
  fail "podman system service did not come up on $DOCKER_HOST"
}

docker_api_ping() {
  python3 - "$work_dir/podman.sock" <<'EOF' >/dev/null 2>&1
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(2)
s.connect(sys.argv[1])
s.sendall(b"GET /_ping HTTP/1.0\r\n\r\n")
assert s.recv(64).startswith(b"HTTP/1.")
EOF
}

# The Dockerfile's unmodified `FROM debian:bookworm` must resolve with no
# registry: make that image once from the host's configured Debian mirror.
make_base_image() {
  if podman image exists "$base_image"; then
    echo "$base_image exists (cached)"
    return 0
  fi
  local rootfs=$work_dir/rootfs mirror
  mirror=$(debian_mirror)
  echo "debootstrap --variant=minbase bookworm from $mirror"
  debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$work_dir/debootstrap.log" 2>&1 ||
    {
      tail -20 "$work_dir/debootstrap.log"
      fail "debootstrap failed"
    }
  # The same Debian sources as the host (with its security suite), so images
  # get the same package versions the host builds and tests with.
  if [[ -f /etc/apt/sources.list.d/debian.sources ]]; then
    cp /etc/apt/sources.list.d/debian.sources "$rootfs/etc/apt/sources.list.d/"
    rm -f "$rootfs/etc/apt/sources.list"
  fi
  rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb
  tar -C "$rootfs" --numeric-owner -c . |
    podman import --change 'CMD ["bash"]' - "$base_image" >/dev/null
  rm -rf "$rootfs"
}

debian_mirror() {
  local uri
  uri=$(awk '/^URIs:/ && !done { print $2; done = 1 }' /etc/apt/sources.list.d/debian.sources 2>/dev/null)
  [[ -n $uri ]] || uri=$(awk '$1 == "deb" && !done { print $2; done = 1 }' /etc/apt/sources.list 2>/dev/null)
  echo "${uri:-http://deb.debian.org/debian}"
}

build_images() {
  "${compose[@]}" build
  # The runtime image must start, find its libraries, and keep its health check.
  podman run --rm --no-healthcheck mtlsprobe:lab --version
  [[ $(podman image inspect --format '{{.Config.Healthcheck}}' mtlsprobe:lab) != "<nil>" ]] ||
    fail "the mtlsprobe:lab image lost its HEALTHCHECK (built in OCI format?)"
}

# Podman runs health checks from systemd timers, and there is no systemd here:
# without this loop `condition: service_healthy` would wait forever. It runs
# the image's own check for this project's containers until they are healthy,
# as a Docker engine would by itself.
start_healthcheck_driver() {
  (
    set +e
    while :; do
      for id in $(podman ps --quiet --filter "label=com.docker.compose.project=$COMPOSE_PROJECT_NAME" \
        --filter health=starting --filter health=unhealthy 2>/dev/null); do
        podman healthcheck run "$id" >/dev/null 2>&1
      done
      sleep 1
    done
  ) &
  healthcheck_driver_pid=$!
}

# Runs one direction of the lab and echoes the client's exit code.
run_direction() {
  local client=$1 log=$2 code=0
  # bems-server serves one handshake (--once) and exits. Compose may still
  # call the exiting container "up-to-date" and start lync-client against a
  # port nobody listens on: a fresh one is created and waited for instead.
  if [[ $client == lync-client ]]; then
    "${compose[@]}" rm --stop --force bems-server >/dev/null 2>&1 || true
  fi
  "${compose[@]}" up --no-color --abort-on-container-exit --exit-code-from "$client" "$client" \
    >"$log" 2>&1 || code=$?
  echo "$code"
}

show_lab_logs() {
  "${compose[@]}" logs --no-color 2>&1 | sed 's/^/    /'
}

# run_scenario FLAW pass|fail [TEXT]: TEXT must appear in the bems log, so a
# scenario passes or fails for its own reason. The lab is not taken down in
# between: a rerun must work on what the previous one left.
run_scenario() {
  local flaw=$1 expected=$2 must_show=${3:-} code
  export FLAW=$flaw
  # A flaw is shown in the BEMS -> Lync direction; the clean lab in both.
  local clients=(bems)
  [[ $expected == pass ]] && clients+=(lync-client)
  for client in "${clients[@]}"; do
    code=$(run_direction "$client" "$work_dir/$client.log")
    echo "--- $client (FLAW=${flaw:-none}) exited $code"
    sed 's/^/    /' "$work_dir/$client.log"
    if [[ $expected == pass && $code != 0 ]]; then
      show_lab_logs
      fail "the clean lab did not pass: $client exited $code"
    fi
    if [[ $expected == fail && $code != 1 ]]; then
      show_lab_logs
      fail "FLAW=$flaw did not fail with the verdict code 1: $client exited $code"
    fi
  done
  if [[ -n $must_show ]] && ! grep -qF -- "$must_show" "$work_dir/bems.log"; then
    show_lab_logs
    fail "FLAW=${flaw:-none}: the bems report does not show \"$must_show\""
  fi
}

# The finding each scenario is about, as the `check` service judges the two
# stores (--strict: a warning fails too). It must be FAIL or WARN there, and
# no other finding may FAIL: one defect, one finding.
declare -A check_findings=(
  [missing-key]="bems.key.present"
  [key-mismatch]="bems.key.matches"
  [untrusted-root]="bems.chain.trusted"
  [missing-intermediate]="bems.chain.intermediates"
  [root-in-intermediate-store]="bems.store.placement"
  [cn-not-fqdn]="bems.subject.cn-fqdn"
  [san-missing-pool]="bems.san.pool"
  [san-missing-instance]="bems.san.instances"
  [expired]="bems.validity"
  [not-yet-valid]="bems.validity"
  [no-client-auth-eku]="bems.eku"
  [no-digital-signature]="bems.eku"
  [weak-key]="bems.key.strength"
  [sha1-signature]="bems.key.strength"
  [separate-untrusted-cas]="trust.mutual"
  [intermediate-in-root-store]="bems.store.placement"
  [no-revocation-info]="bems.revocation.published"
  [revoked]="bems.revocation"
)

# Every scenario through the check service: the clean lab passes, each flaw
# exits 1 with its own finding(s) failing (or warning, under --strict).
run_all_scenarios() {
  local flaws flaw code id log=$work_dir/check.log
  flaws=$(podman run --rm --no-healthcheck mtlsprobe:lab pki flaws | awk 'NR > 1 { print $1 }')
  for flaw in "" $flaws revoked; do
    [[ -z $flaw || -n ${check_findings[$flaw]:-} ]] ||
      fail "FLAW=$flaw has no expected finding in docker/ci.sh: add it to check_findings"
    export FLAW=$flaw
    code=0
    "${compose[@]}" up --no-color --abort-on-container-exit --exit-code-from check check \
      >"$log" 2>&1 || code=$?
    local shown
    # No FAIL or WARN line (the clean lab) is no error here.
    shown=$({ grep -oE '\| +(FAIL|WARN) +[a-z0-9.-]+' "$log" || true; } | awk '{ print $3 }' |
      sort -u | tr '\n' ' ')
    echo "FLAW=${flaw:-none}: check exited $code; fails/warns: ${shown:-none}"
    if [[ -z $flaw ]]; then
      [[ $code == 0 ]] || {
        sed 's/^/    /' "$log"
        fail "the clean lab's check did not pass"
      }
      continue
    fi
    [[ $code == 1 ]] || {
      sed 's/^/    /' "$log"
      fail "FLAW=$flaw: check exited $code, not the verdict code 1"
    }
    for id in ${check_findings[$flaw]}; do
      [[ " $shown " == *" $id "* ]] || {
        sed 's/^/    /' "$log"
        fail "FLAW=$flaw: $id is not FAIL/WARN in the check report"
      }
    done
    local failed
    failed=$({ grep -oE '\| +FAIL +[a-z0-9.-]+' "$log" || true; } | awk '{ print $3 }' | sort -u)
    for id in $failed; do
      [[ " ${check_findings[$flaw]} " == *" $id "* ]] || {
        sed 's/^/    /' "$log"
        fail "FLAW=$flaw: $id FAILs beside ${check_findings[$flaw]}: one defect, one finding"
      }
    done
  done
}

# run_rollover ROLLOVER CODE TEXT: the next certificate the pki service makes
# for ROLLOVER, rehearsed by the rollover service (offline and live against
# the mock Lync), must exit CODE and show TEXT.
run_rollover() {
  local scenario=$1 expected=$2 must_show=$3 code=0 log=$work_dir/rollover.log
  export FLAW='' ROLLOVER="$scenario"
  "${compose[@]}" up --no-color --abort-on-container-exit --exit-code-from rollover rollover \
    >"$log" 2>&1 || code=$?
  export ROLLOVER=''
  echo "--- rollover (ROLLOVER=$scenario) exited $code"
  sed 's/^/    /' "$log"
  if [[ $code != "$expected" ]]; then
    show_lab_logs
    fail "ROLLOVER=$scenario: rollover exited $code, not $expected"
  fi
  if ! grep -qF -- "$must_show" "$log"; then
    show_lab_logs
    fail "ROLLOVER=$scenario: the rollover report does not show \"$must_show\""
  fi
}

# The README's monitoring recipe on the clean lab: Prometheus scrapes the
# exporter's probe of the Lync pool by its FQDN ($LYNC_POOL, the target its
# service writes at start), and the probe succeeds.
run_monitoring() {
  export FLAW=''
  local log=$work_dir/prometheus.log answer=
  "${compose[@]}" up --no-color --detach prometheus >"$log" 2>&1 || {
    cat "$log"
    fail "the prometheus service did not start"
  }
  # A scrape every 15 s: the first lands within about 20 s of the start.
  for _ in $(seq 1 60); do
    answer=$("${compose[@]}" exec -T prometheus promtool query instant http://localhost:9090 \
      'mtlsprobe_probe_success' 2>/dev/null || true)
    [[ $answer != *"$LYNC_POOL:5061"* ]] || break
    sleep 2
  done
  echo "$answer" | sed 's/^/    /'
  [[ $answer == *"instance=\"$LYNC_POOL:5061\""*"=> 1 @"* ]] ||
    fail "Prometheus has no successful probe of the Lync pool $LYNC_POOL:5061"
  "${compose[@]}" rm --stop --force prometheus exporter >/dev/null 2>&1 || true
}

# An unknown scenario is a setup error, not a verdict: pki exits 3 with one
# line in its own log, and nothing is served.
run_unknown_scenario() {
  export FLAW=san-missing-instnace
  local code=0 pki_id pki_exit
  "${compose[@]}" up --no-color --exit-code-from check check >"$work_dir/unknown.log" 2>&1 ||
    code=$?
  pki_id=$("${compose[@]}" ps -q pki)
  pki_exit=$(podman inspect --format '{{.State.ExitCode}}' "$pki_id")
  "${compose[@]}" logs --no-color pki >"$work_dir/pki.log" 2>&1
  echo "FLAW=$FLAW: up exited $code, pki exited $pki_exit"
  sed 's/^/    /' "$work_dir/pki.log"
  [[ $code != 0 && $pki_exit == 3 ]] || fail "an unknown FLAW did not stop pki with exit 3"
  grep -q "unknown scenario FLAW=san-missing-instnace" "$work_dir/pki.log" ||
    fail "the pki log does not name the unknown scenario"
}

# The "With real endpoints" recipes of docker/README.md, read from the block
# after its `<!-- recipes:` marker so they cannot drift from what is tested:
# one recipe per `# title` line, the command lines after it.
declare -A recipes=()
declare -A recipes_run=()
recipe_titles=()
read_recipes() {
  local line marker=0 block=0 title=
  while IFS= read -r line; do
    if ((!marker)); then
      [[ $line != '<!-- recipes:'* ]] || marker=1
      continue
    fi
    if ((!block)); then
      [[ $line != '```sh' ]] || block=1
      continue
    fi
    [[ $line != '```' ]] || break
    if [[ $line == '# '* ]]; then
      title=${line#\# }
      recipe_titles+=("$title")
      recipes[$title]=
    elif [[ -n $title ]]; then
      recipes[$title]+=$line$'\n'
    fi
  done <"$docker_dir/README.md"
  ((${#recipe_titles[@]} > 0)) || fail "docker/README.md has no recipe block after '<!-- recipes:'"
}

# recipe TITLE-START: sets recipe_text to the recipe whose title starts so,
# with the substitutions the README's marker names.
recipe_text=
recipe() {
  local title found=
  for title in "${recipe_titles[@]}"; do
    [[ $title != "$1"* ]] || found=$title
  done
  [[ -n $found ]] || fail "docker/README.md has no recipe '# $1...'"
  recipes_run[$found]=1
  local text=${recipes[$found]}
  text=${text//mtlsprobe:lab/$recipe_image}
  text=${text//-p 5061:5061/-p 127.0.0.1:$recipe_port:5061}
  text=${text//mtlsprobe-lab_lab/${COMPOSE_PROJECT_NAME}_lab}
  text=${text//connect lyncpool.example.com/connect lyncpool.example.com --connect-to $recipe_mock:5061}
  # Every `docker` of the recipes is recipe_docker (below).
  recipe_text=$(sed -E 's/^docker /recipe_docker /' <<<"$text")
}

# The recipes' `docker` is Podman's CLI, which takes the same arguments:
# the Docker CLI (28) on Podman's API reports 0 for a `run --rm` container
# whatever it exited with. `run` labels its container for teardown.
recipe_docker() {
  if [[ $1 == run ]]; then
    shift
    podman run --label "$recipe_label" "$@"
  else
    # Podman builds OCI images unless told, which would drop HEALTHCHECK.
    BUILDAH_FORMAT=docker podman "$@"
  fi
}

# mtlsprobe on the host (the one CI built), else the image on the host's
# network: what a user runs beside the container.
host_mtlsprobe() {
  if [[ -x $root_dir/build/probe/mtlsprobe ]]; then
    "$root_dir/build/probe/mtlsprobe" "$@"
  else
    podman run --rm --no-healthcheck --network host --user "$(id -u):$(id -g)" -e PFX_PASSWORD \
      -v "$recipe_dir:$recipe_dir" -w "$PWD" "$recipe_image" "$@"
  fi
}

# Runs each README recipe as written in a folder of stores `pki init` made
# (the BEMS one a .pfx with a password from the environment), and checks what
# the README says it does.
recipe_image=mtlsprobe:ci-recipes
recipe_dir=
recipe_port=
recipe_mock=
run_recipes() {
  read_recipes
  recipe_dir=$work_dir/recipes
  mkdir -p "$recipe_dir"
  local log=$recipe_dir/recipe.log code
  # Only this shell and the containers it starts see it, never a command line.
  PFX_PASSWORD=$(head -c 12 /dev/urandom | base64)
  export PFX_PASSWORD
  recipe_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

  recipe "Build the image"
  (cd "$root_dir" && eval "$recipe_text") >"$log" 2>&1 || {
    tail -20 "$log"
    fail "README recipe 'Build the image' failed"
  }
  echo "recipe: built $recipe_image"

  # Stores as a user brings them: the default names of `pki init`
  # (lyncpool.example.com, bemsapppool.example.com, as the recipes), and a
  # revocation URL nobody answers at once (the checks say so and go on).
  (cd "$recipe_dir" && host_mtlsprobe pki init lab --password-env PFX_PASSWORD \
    --revocation-url http://127.0.0.1:9) >"$log" 2>&1 || {
    cat "$log"
    fail "mtlsprobe pki init for the recipes failed"
  }
  # Readable by the image's user: 0644 copies, as the README says.
  mkdir -p "$recipe_dir/bems-store/personal"
  cp -r "$recipe_dir/lab/bems/trusted-root" "$recipe_dir/lab/bems/intermediate" "$recipe_dir/bems-store/"
  install -m 0644 "$recipe_dir/lab/bems.pfx" "$recipe_dir/bems-store/personal/"
  cp -r "$recipe_dir/lab/lync" "$recipe_dir/lync-store"
  chmod 0644 "$recipe_dir/lync-store/personal/lync.key"

  # The mock Lync on 5061 (here a port on 127.0.0.1), until teardown.
  local serve_log=$recipe_dir/serve.log
  recipe "Expose the mock Lync"
  (cd "$recipe_dir" && eval "$recipe_text") >"$serve_log" 2>&1 &
  recipe_serve_pid=$!
  for _ in $(seq 1 60); do
    grep -q "serving as Lync" "$serve_log" && break
    kill -0 "$recipe_serve_pid" 2>/dev/null || break
    sleep 1
  done
  grep -q "serving as Lync" "$serve_log" || {
    cat "$serve_log"
    fail "README recipe 'Expose the mock Lync' did not start serving"
  }
  # ... reached from the host through the published port ...
  code=0
  (cd "$recipe_dir" && host_mtlsprobe connect lyncpool.example.com --connect-to "127.0.0.1:$recipe_port" \
    --store bems-store --password-env PFX_PASSWORD --sip --no-color) >"$log" 2>&1 || code=$?
  echo "recipe: host -> 127.0.0.1:$recipe_port (published 5061): connect exited $code"
  if [[ $code != 0 ]] || ! grep -qF "PASS  sip.options" "$log"; then
    cat "$log" "$serve_log"
    fail "the mock Lync published on 127.0.0.1:$recipe_port did not pass a host-side connect --sip"
  fi

  # ... and probed by the pool recipe, a .pfx with its password from -e.
  recipe_mock=$(podman ps --quiet --filter "label=$recipe_label" |
    xargs -r podman inspect --format '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' |
    head -1)
  [[ -n $recipe_mock ]] || fail "the mock Lync's container has no address"
  code=0
  recipe "Probe a real Lync"
  (cd "$recipe_dir" && eval "$recipe_text") >"$log" 2>&1 || code=$?
  echo "recipe: probe lyncpool.example.com (at $recipe_mock) with a .pfx store: exited $code"
  if [[ $code != 0 ]] || ! grep -qF "PASS  sip.options" "$log"; then
    cat "$log" "$serve_log"
    fail "README recipe 'Probe a real Lync/Skype pool' did not pass against the mock Lync"
  fi
  ! grep -qF -- "$PFX_PASSWORD" "$log" "$serve_log" || fail "the .pfx password is in the output"

  # The lab root out of this run's compose volume: the volume's own file.
  recipe "Take the lab root out"
  (cd "$recipe_dir" && eval "$recipe_text") 2>"$log" || {
    cat "$log"
    fail "README recipe 'Take the lab root out' failed"
  }
  local volume
  volume=$(podman volume inspect --format '{{.Mountpoint}}' "${COMPOSE_PROJECT_NAME}_lab")
  if ! grep -q "BEGIN CERTIFICATE" "$recipe_dir/lab-root.crt" ||
    ! cmp -s "$recipe_dir/lab-root.crt" "$volume/ca/lab-root.crt"; then
    fail "README recipe 'Take the lab root out' did not give the volume's lab root"
  fi
  echo "recipe: lab-root.crt taken out of ${COMPOSE_PROJECT_NAME}_lab matches the volume's"

  # A store whose key only its owner reads (0600, as pki writes it): the
  # image's user cannot, the recipe with --user can.
  rm -rf "$recipe_dir/bems-store"
  cp -a "$recipe_dir/lab/bems" "$recipe_dir/bems-store"
  [[ $(stat -c %a "$recipe_dir/bems-store/personal/bems.key") == 600 ]] ||
    fail "pki init no longer writes the key 0600: the --user recipe tests nothing"
  # The recipe's text, expanded only when the recipe runs.
  # shellcheck disable=SC2016
  local as_user without_user user_flag='--user "$(id -u):$(id -g)" '
  recipe "A key only you may read"
  as_user=$recipe_text
  without_user=${as_user//"$user_flag"/}
  [[ $without_user != "$as_user" ]] || fail "the --user recipe has no $user_flag"
  code=0
  (cd "$recipe_dir" && eval "$without_user") >"$log" 2>&1 || code=$?
  echo "recipe: check a 0600 key as the image's user: exited $code"
  if [[ $code != 1 ]] || ! grep -qF "FAIL  bems.key.readable" "$log"; then
    cat "$log"
    fail "without --user the image's user read a 0600 key (or failed otherwise)"
  fi
  code=0
  (cd "$recipe_dir" && eval "$as_user") >"$log" 2>&1 || code=$?
  echo "recipe: the same with --user $(id -u):$(id -g): exited $code"
  if [[ $code != 0 ]] || ! grep -qF "PASS  bems.key.present" "$log"; then
    cat "$log"
    fail "README recipe 'A key only you may read' did not read the 0600 key"
  fi

  local title
  for title in "${recipe_titles[@]}"; do
    [[ -n ${recipes_run[$title]:-} ]] || fail "docker/ci.sh does not run the README recipe '# $title'"
  done
}

begin_phase "install packages"
install_missing_packages
end_phase

# .ci/run starts this early in the background: debootstrap waits on the
# network while the project compiles.
if [[ "${1:-}" == --base-only ]]; then
  begin_phase "base image"
  make_base_image
  end_phase
  exit 0
fi

begin_phase "static checks"
static_checks
end_phase

begin_phase "podman service"
start_podman_service
end_phase

begin_phase "base image"
make_base_image
end_phase

begin_phase "build images"
build_images
end_phase

start_healthcheck_driver

"${compose[@]}" down --volumes --remove-orphans --timeout 5 >/dev/null 2>&1 || true

begin_phase "clean lab (must pass; revocation answered by pki-http)"
run_scenario "" pass "PASS  bems.revocation"
# Each side dialled the other's pool FQDN (a network alias) and sent it as SNI.
grep -qE "SNI sent: +$LYNC_POOL\$" "$work_dir/bems.log" ||
  fail "bems did not dial the Lync pool FQDN $LYNC_POOL with it as SNI"
grep -qE "SNI sent: +${POOL:-bems.lab.example}\$" "$work_dir/lync-client.log" ||
  fail "lync-client did not dial the BEMS pool FQDN ${POOL:-bems.lab.example} with it as SNI"
end_phase

begin_phase "clean lab again, not taken down (must pass)"
run_scenario "" pass "PASS  bems.revocation"
grep -q "keeping the lab issued for" <("${compose[@]}" logs --no-color pki 2>&1) ||
  fail "the second run issued the lab again instead of keeping it"
end_phase

begin_phase "FLAW=$lab_flaw (must fail)"
run_scenario "$lab_flaw" fail
end_phase

begin_phase "FLAW=revoked (refused by the mock Lync)"
run_scenario revoked fail "FAIL  bems.revocation"
# The mock Lync checks the BEMS chain's revocation in the handshake, as a
# Front End does, and refuses it: BEMS sees its certificate_revoked alert ...
grep -qF "certificate_revoked" "$work_dir/bems.log" ||
  fail "FLAW=revoked: the bems report does not show the mock Lync's certificate_revoked alert"
# ... and the mock's log says why.
"${compose[@]}" logs --no-color lync >"$work_dir/lync.log" 2>&1 || true
{ grep -iE "revok|refus" "$work_dir/lync.log" || true; } | tail -5 | sed 's/^/    /'
grep -qF "refusing the client certificate in the handshake: certificate revoked" \
  "$work_dir/lync.log" || fail "FLAW=revoked: the mock Lync did not refuse the revoked BEMS certificate"
end_phase

begin_phase "clean lab after the flaws (servers recreated)"
run_scenario "" pass "PASS  bems.revocation"
end_phase

begin_phase "ROLLOVER=same-ca, new-root (live)"
run_rollover same-ca 0 "PASS  rollover.live"
run_rollover new-root 1 "FAIL  rollover.live"
end_phase

begin_phase "monitoring: Prometheus probes the Lync pool FQDN"
run_monitoring
end_phase

begin_phase "every scenario through the check service"
run_all_scenarios
end_phase

begin_phase "an unknown scenario (pki exits 3)"
run_unknown_scenario
end_phase

begin_phase "README recipes (with real endpoints)"
run_recipes
end_phase

begin_phase "image size"
podman image inspect --format '{{.Size}}' mtlsprobe:lab |
  awk '{ printf "mtlsprobe:lab is %.1f MB\n", $1 / 1e6; exit !($1 < 150e6) }' ||
  fail "the runtime image is not under 150 MB"
end_phase

echo
echo "lab: PASS (clean lab passed twice and after the flaws; FLAW=$lab_flaw and FLAW=revoked failed" \
  "live; ROLLOVER=same-ca passed and ROLLOVER=new-root failed rollover.live; every scenario" \
  "failed its own finding in check; an unknown FLAW stopped pki with 3; the README recipes ran)"
