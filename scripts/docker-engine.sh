#!/usr/bin/env bash
# A Docker engine for the project's own use (tests, `make up`, benchmarks).
#
#   scripts/docker-engine.sh start   use the engine that answers, else start our own dockerd
#   scripts/docker-engine.sh env     print `export DOCKER_HOST=...` for the engine to use
#   scripts/docker-engine.sh stop    stop the dockerd this script started (never another)
#
# Our own engine keeps everything under $SLIPWAY_CACHE_DIR/docker (data root, exec root,
# socket, pid file, log), so it never touches a system Docker. docs/toolchain.md has more.
set -euo pipefail
shopt -s inherit_errexit  # a failure inside $(...) stops the script too, as it would outside

cache_root="${SLIPWAY_CACHE_DIR:-$HOME/.cache/slipway}"
dir="$cache_root/docker"
# A short socket path: unix sockets are limited to 108 bytes.
sock="$dir/docker.sock"
pidfile="$dir/dockerd.pid"

say() { printf '%s\n' "docker-engine: $*" >&2; }
die() { printf '%s\n' "docker-engine: error: $*" >&2; exit 1; }

answers() { docker -H "$1" version --format '{{.Server.Version}}' >/dev/null 2>&1; }

ours_running() { [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }

# The engine to use: an explicit DOCKER_HOST, then ours, then the system's default socket.
current_host() {
  if [ -n "${DOCKER_HOST:-}" ] && answers "$DOCKER_HOST"; then echo "$DOCKER_HOST"; return; fi
  if answers "unix://$sock"; then echo "unix://$sock"; return; fi
  if [ -S /var/run/docker.sock ] && answers unix:///var/run/docker.sock; then
    echo unix:///var/run/docker.sock; return
  fi
  return 1
}

install_engine() {
  command -v dockerd >/dev/null && command -v docker >/dev/null && return
  [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null \
    || die "no Docker engine answers and this is not a Debian machine where we are root. Fix: install Docker (your distribution's docker.io or docker-ce package), start it, and set DOCKER_HOST if its socket is not /var/run/docker.sock."
  say "installing Debian's docker.io (one time)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null
  apt-get install -y -q docker.io >/dev/null
}

# The CPU cgroup(s) our dockerd runs in, as systemd runs docker.service: a group of its own.
# Started from a shell in the root cgroup (no systemd), the daemon, containerd and their shims
# would be root-level tasks, and on the kernel's scheduler each such task weighs as much as
# all containers together (their group): on 2 cores, 3 busy daemon threads made a container's
# p99 50x worse (1085 ms against 20 ms with the same work in a group; docs/toolchain.md).
cgroup_v2() { [ -f /sys/fs/cgroup/cgroup.controllers ]; }

engine_cgroups() {
  if cgroup_v2; then echo /sys/fs/cgroup/slipway-engine; return; fi
  local c seen=""
  for c in cpu cpuacct; do
    [ -d "/sys/fs/cgroup/$c" ] || continue
    local real; real=$(readlink -f "/sys/fs/cgroup/$c")
    case " $seen " in *" $real "*) continue ;; esac
    seen="$seen $real"; echo "$real/slipway-engine"
  done
}

# Move this shell (and so the dockerd it starts) into those groups; best effort: where the
# cgroup file system is read-only the engine runs where it is, and we say so.
enter_engine_cgroups() {
  local group
  # cgroup v2: a group weighs CPU only where its parent hands the cpu controller down.
  cgroup_v2 && { echo +cpu >/sys/fs/cgroup/cgroup.subtree_control; } 2>/dev/null || true
  for group in $(engine_cgroups); do
    if mkdir -p "$group" 2>/dev/null && echo $$ >"$group/cgroup.procs" 2>/dev/null; then
      say "dockerd runs in the CPU cgroup $group"
    else
      say "warning: cannot use the cgroup $group; dockerd shares the caller's, and its work can slow containers down (docs/toolchain.md)"
    fi
  done
}

start() {
  if host=$(current_host); then say "engine answers on $host"; return; fi
  install_engine
  mkdir -p "$dir"
  enter_engine_cgroups
  say "starting dockerd (data under $dir)"
  # --iptables stays on: published ports on 127.0.0.1 need it. No swarm, no registry mirror.
  nohup dockerd --data-root "$dir/root" --exec-root "$dir/exec" -H "unix://$sock" --userland-proxy=false \
    --pidfile "$pidfile" >"$dir/dockerd.log" 2>&1 &
  for _ in $(seq 1 60); do
    if answers "unix://$sock"; then say "engine ready on unix://$sock"; return; fi
    sleep 0.5
  done
  tail -n 20 "$dir/dockerd.log" >&2 || true
  die "dockerd did not answer within 30 s (log: $dir/dockerd.log, shown above)"
}

stop() {
  if ! ours_running; then say "no dockerd of ours is running"; return; fi
  local pid; pid=$(cat "$pidfile")
  say "stopping our dockerd (pid $pid)"
  kill "$pid"
  # dockerd stops every container first (each within its own stop timeout, bounded by its
  # shutdown timeout); on a loaded machine with many containers that takes more than 30 s.
  for _ in $(seq 1 360); do kill -0 "$pid" 2>/dev/null || { say "stopped"; return; }; sleep 0.5; done
  die "dockerd (pid $pid) did not stop within 180 s (log: $dir/dockerd.log)"
}

case "${1:-start}" in
  start) start ;;
  env) host=$(current_host) || die "no Docker engine answers: run 'scripts/docker-engine.sh start'"
       echo "export DOCKER_HOST=$host" ;;
  stop) stop ;;
  *) die "unknown command '$1' (use: start, env, stop)" ;;
esac
