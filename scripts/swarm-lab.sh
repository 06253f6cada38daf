#!/usr/bin/env bash
# A 3-node Docker Swarm on this machine: 1 manager + 2 workers, each a dockerd of its own in
# a network namespace (and a UTS namespace: its own hostname) of its own, on a test bridge.
#
#   scripts/swarm-lab.sh start        make the namespaces, start the 3 engines, form the Swarm,
#                                     load the images of SLIPWAY_SWARM_LAB_IMAGES into each node
#   scripts/swarm-lab.sh env          print the exports that use it (DOCKER_HOST = the manager)
#   scripts/swarm-lab.sh load IMG...  copy images from the project's engine into every node
#   scripts/swarm-lab.sh stop         undo exactly what `start` made (never anything else)
#   scripts/swarm-lab.sh status       exit 0 when all 3 nodes are Ready, 3 when not running
#   scripts/swarm-lab.sh node-stop N  stop node N's dockerd (a node lost; the Swarm sees it Down)
#   scripts/swarm-lab.sh node-start N start it again and wait until the manager sees it Ready
#
# Every node takes plain-HTTP registries on the lab's subnet (--insecure-registry 10.N.0.0/24):
# scripts/registry.sh serves one on the bridge's address for `build:` services (swarm.md).
#
# How it works and its traps: ../shared/swarm-lab.md; use, failures and recovery:
# docs/swarm.md. Everything lives under $SLIPWAY_SWARM_LAB_DIR (default
# $SLIPWAY_CACHE_DIR/swarm-lab/<name>); the project's engine is only read (`docker save`),
# never stopped or reconfigured. SLIPWAY_SWARM_LAB_NAME (default slw, at most 6 characters)
# names the bridge, namespaces and interfaces; SLIPWAY_SWARM_LAB_NET (default 231) is the
# second octet of the test subnet 10.N.0.0/24 (and 10.N+1.0.0/16 for overlay networks), so
# two labs can run side by side.
set -euo pipefail
shopt -s inherit_errexit  # a failure inside $(...) stops the script too, as it would outside
here="$(cd "$(dirname "$0")" && pwd)"

name="${SLIPWAY_SWARM_LAB_NAME:-slw}"
net="${SLIPWAY_SWARM_LAB_NET:-231}"
cache_root="${SLIPWAY_CACHE_DIR:-$HOME/.cache/slipway}"
lab="${SLIPWAY_SWARM_LAB_DIR:-$cache_root/swarm-lab/$name}"
images="${SLIPWAY_SWARM_LAB_IMAGES:-slipway/base:busybox}"
nodes=(1 2 3)            # node 1 is the manager
bridge="${name}-br"
subnet_prefix="10.$net.0"
bridge_addr="$subnet_prefix.1"
rule=(-i "$bridge" -o "$bridge" -m comment --comment "slipway-swarm-lab-$name" -j ACCEPT)

say() { printf '%s\n' "swarm-lab: $*" >&2; }
die() { printf '%s\n' "swarm-lab: error: $*" >&2; exit 1; }

ns() { echo "$name-n$1"; }
addr() { echo "$subnet_prefix.$((10 + $1))"; }
sock() { echo "unix://$lab/n$1/docker.sock"; }
node() { local i=$1; shift; timeout 120 docker -H "$(sock "$i")" "$@"; }
answers() { docker -H "$(sock "$1")" version --format '{{.Server.Version}}' >/dev/null 2>&1; }
main_host() { bash "$here/docker-engine.sh" env | sed 's/^export DOCKER_HOST=//'; }

dockerd_running() {  # our dockerd of node $1 (a pid file can outlive its process)
  local pidfile="$lab/n$1/dockerd.pid" pid
  [ -f "$pidfile" ] || return 1
  pid=$(cat "$pidfile")
  kill -0 "$pid" 2>/dev/null || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "--data-root $lab/n$1/root"
}

check_prerequisites() {
  [ "$(id -u)" = 0 ] || die "network namespaces and a bridge need root. Fix: run 'sudo $0 start'."
  [ ${#name} -le 6 ] || die "SLIPWAY_SWARM_LAB_NAME '$name' is longer than 6 characters (interface names are limited to 15)."
  case "$net" in ''|*[!0-9]*) die "SLIPWAY_SWARM_LAB_NET '$net' must be a number 1-253";; esac
  [ "$net" -ge 1 ] && [ "$net" -le 253 ] || die "SLIPWAY_SWARM_LAB_NET '$net' must be 1-253"
  local c
  for c in dockerd docker ip iptables nsenter unshare timeout; do
    command -v "$c" >/dev/null || die "'$c' is missing. Fix: apt-get install docker.io iproute2 iptables util-linux coreutils"
  done
  modprobe br_netfilter 2>/dev/null || true
  if ip route show | grep -q "^10\.$net\.0\.0/24" && ! ip link show "$bridge" >/dev/null 2>&1; then
    die "10.$net.0.0/24 is already routed here by something else. Fix: choose another SLIPWAY_SWARM_LAB_NET."
  fi
}

make_network() {
  if ! ip link show "$bridge" >/dev/null 2>&1; then
    ip link add "$bridge" type bridge
    ip addr add "$bridge_addr/24" dev "$bridge"
    ip link set "$bridge" up
  fi
  # Bridged frames pass the root namespace's FORWARD chain (bridge-nf-call-iptables), whose
  # policy is DROP once a dockerd has run: let the lab's own bridge through, and only it.
  local chain=FORWARD
  iptables -n -L DOCKER-USER >/dev/null 2>&1 && chain=DOCKER-USER
  echo "$chain" >"$lab/iptables-chain"
  iptables -C "$chain" "${rule[@]}" 2>/dev/null || iptables -I "$chain" "${rule[@]}"
  local i host peer
  for i in "${nodes[@]}"; do
    host="${name}${i}h"; peer="${name}${i}n"
    [ -e "/var/run/netns/$(ns "$i")" ] || ip netns add "$(ns "$i")"
    if ! ip link show "$host" >/dev/null 2>&1; then
      ip link add "$host" type veth peer name "$peer"
      ip link set "$peer" netns "$(ns "$i")"
      ip link set "$host" master "$bridge" up
      nsenter --net="/var/run/netns/$(ns "$i")" sh -e -c "
        ip link set lo up
        ip link set $peer name eth0
        ip addr add $(addr "$i")/24 dev eth0
        ip link set eth0 up
        ip route add default via $bridge_addr"
    fi
  done
}

start_engine() {
  local i=$1 d="$lab/n$1"
  dockerd_running "$i" && return
  mkdir -p "$d"
  # `nsenter --net`, not `ip netns exec`: the latter remounts /sys in a new mount namespace
  # and dockerd then fails with "Devices cgroup isn't mounted" (../shared/swarm-lab.md).
  nohup nsenter --net="/var/run/netns/$(ns "$i")" unshare --uts sh -c \
    "hostname $(ns "$i") && exec dockerd --data-root $d/root --exec-root $d/exec \
       -H $(sock "$i") --pidfile $d/dockerd.pid --userland-proxy=false \
       --insecure-registry $subnet_prefix.0/24" \
    >"$d/dockerd.log" 2>&1 &
}

wait_engine() {
  local i=$1 _
  for _ in $(seq 1 120); do answers "$i" && return; sleep 0.5; done
  tail -n 20 "$lab/n$i/dockerd.log" >&2 || true
  die "the dockerd of node $i did not answer within 60 s (log: $lab/n$i/dockerd.log, above). Recover: '$0 stop', then start again."
}

swarm_state() { docker -H "$(sock "$1")" info --format '{{.Swarm.LocalNodeState}}' 2>/dev/null; }

form_swarm() {
  if [ "$(swarm_state 1)" != active ]; then
    node 1 swarm init --advertise-addr "$(addr 1)" --listen-addr "$(addr 1):2377" \
      --default-addr-pool "10.$((net + 1)).0.0/16" >/dev/null
  fi
  local token i
  token=$(node 1 swarm join-token -q worker)
  for i in "${nodes[@]:1}"; do
    [ "$(swarm_state "$i")" = active ] && continue
    node "$i" swarm join --token "$token" "$(addr 1):2377" >/dev/null \
      || die "node $i could not join the manager at $(addr 1):2377. Usual cause: the FORWARD chain drops the bridge's traffic (iptables -S $(cat "$lab/iptables-chain")). Recover: '$0 stop', then start again."
  done
  for _ in $(seq 1 60); do
    [ "$(node 1 node ls --format '{{.Status}}' | grep -c '^Ready$')" = "${#nodes[@]}" ] && return
    sleep 0.5
  done
  node 1 node ls >&2 || true
  die "not every node is Ready after 30 s (above). Recover: '$0 stop', then start again."
}

load_images() {  # copy images from the project's engine into every node
  local main image i
  main=$(main_host)
  for image in "$@"; do
    docker -H "$main" image inspect "$image" >/dev/null 2>&1 \
      || die "image '$image' is not on the project's engine ($main). Fix: build it there first (e.g. 'make engine' builds slipway/base:busybox)."
    for i in "${nodes[@]}"; do
      docker -H "$main" save "$image" | node "$i" load -q >/dev/null \
        || die "loading '$image' into node $i failed (its log: $lab/n$i/dockerd.log)"
    done
    say "loaded $image into ${#nodes[@]} nodes"
  done
}

write_env() {
  local i socks="" addrs=""
  for i in "${nodes[@]}"; do socks="$socks $(sock "$i")"; addrs="$addrs $(addr "$i")"; done
  {
    echo "export DOCKER_HOST=$(sock 1)"  # no SLIPWAY_ names: the service refuses unknown ones
    echo "export SWARM_LAB_NODES='${socks# }'"
    echo "export SWARM_LAB_ADDRS='${addrs# }'"
  } >"$lab/env"
}

start() {
  check_prerequisites
  mkdir -p "$lab"
  make_network
  local i
  for i in "${nodes[@]}"; do start_engine "$i"; done
  for i in "${nodes[@]}"; do wait_engine "$i"; done
  form_swarm
  # shellcheck disable=SC2086
  load_images $images
  write_env
  say "3 nodes Ready; manager $(sock 1) at $(addr 1). Use: eval \"\$($0 env)\""
}

stop_engine() {  # no `swarm leave`: the node's whole data root is removed afterwards
  local i=$1 pid _
  dockerd_running "$i" || return 0
  pid=$(cat "$lab/n$i/dockerd.pid")
  kill "$pid"
  for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.5; done
  say "dockerd of node $i (pid $pid) ignored SIGTERM for 30 s: killing it"
  kill -9 "$pid" 2>/dev/null || true
}

stop() {
  [ "$(id -u)" = 0 ] || die "removing namespaces needs root. Fix: run 'sudo $0 stop'."
  local i mounts
  for i in "${nodes[@]}"; do stop_engine "$i" & done
  wait
  # What the engines left mounted under the lab (overlay layers, netns files, shm).
  mounts=$(awk -v d="$lab/" 'index($2, d) == 1 {print $2}' /proc/mounts | sort -r)
  for i in $mounts; do umount -l "$i" 2>/dev/null || true; done
  for i in "${nodes[@]}"; do
    ip link del "${name}${i}h" 2>/dev/null || true
    [ -e "/var/run/netns/$(ns "$i")" ] && ip netns del "$(ns "$i")"
  done
  ip link show "$bridge" >/dev/null 2>&1 && ip link del "$bridge"
  local chain=DOCKER-USER
  [ -f "$lab/iptables-chain" ] && chain=$(cat "$lab/iptables-chain")
  while iptables -C "$chain" "${rule[@]}" 2>/dev/null; do iptables -D "$chain" "${rule[@]}"; done
  rm -rf "$lab"
  say "stopped: engines, namespaces, bridge and firewall rule of lab '$name' removed"
}

status() {
  [ -f "$lab/env" ] && dockerd_running 1 || { say "not running"; exit 3; }
  local ready
  ready=$(docker -H "$(sock 1)" node ls --format '{{.Status}}' 2>/dev/null | grep -c '^Ready$' || true)
  [ "$ready" = "${#nodes[@]}" ] || { say "running, but $ready of ${#nodes[@]} nodes Ready"; exit 1; }
  say "running: ${#nodes[@]} nodes Ready"
}

node_number() {
  case "${1:-}" in 1|2|3) ;; *) die "name a node: 1, 2 or 3 (1 is the manager)";; esac
  [ -f "$lab/env" ] || die "no lab '$name' runs: run '$0 start'"
}

node_start() {  # the engine keeps its Swarm state on disk: it rejoins by itself
  local i=$1 _
  start_engine "$i"
  wait_engine "$i"
  for _ in $(seq 1 120); do
    [ "$(node 1 node inspect "$(ns "$i")" --format '{{.Status.State}}' 2>/dev/null)" = ready ] && {
      say "node $i Ready again"; return; }
    sleep 0.5
  done
  die "node $i runs but the manager does not see it Ready after 60 s (log: $lab/n$i/dockerd.log)"
}

case "${1:-}" in
  start) start ;;
  node-stop) node_number "${2:-}"; stop_engine "$2"; say "dockerd of node $2 stopped" ;;
  node-start) node_number "${2:-}"; node_start "$2" ;;
  env) [ -f "$lab/env" ] || die "no lab '$name' runs: run '$0 start'"; cat "$lab/env" ;;
  load) shift; [ $# -gt 0 ] || die "name the images to load"; load_images "$@" ;;
  stop) stop ;;
  status) status ;;
  *) die "unknown command '${1:-}' (use: start, env, load IMAGE..., stop, status, node-stop N, node-start N)" ;;
esac
