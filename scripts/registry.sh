#!/usr/bin/env bash
# A real image registry (distribution's `registry`, built from Go modules by
# `scripts/toolchain.sh registry`) for Swarm stacks whose services `build:`: the manager
# pushes there, every node pulls from there (docs/swarm.md, "Images on many nodes").
#
#   scripts/registry.sh start [ADDR:PORT]  serve plain HTTP on ADDR:PORT (default: the swarm
#                                          lab's bridge, 10.231.0.1:5000); idempotent
#   scripts/registry.sh url   [ADDR:PORT]  print the value for `slipway:registry`
#   scripts/registry.sh stop  [ADDR:PORT]  stop it and delete its storage
#   scripts/registry.sh status [ADDR:PORT] exit 0 when it answers, 3 when not running
#
# Its storage, config, pid file and log live under $SLIPWAY_CACHE_DIR/registry/<ADDR_PORT>.
# The address must be one every node reaches; the lab's nodes take plain HTTP on the lab's
# subnet (scripts/swarm-lab.sh passes --insecure-registry). A production registry serves
# HTTPS instead (docs/swarm.md). `stop` kills only the process whose pid file and command
# line are this registry's.
set -euo pipefail
shopt -s inherit_errexit  # a failure inside $(...) stops the script too, as it would outside
here="$(cd "$(dirname "$0")" && pwd)"
cache_root="${SLIPWAY_CACHE_DIR:-$HOME/.cache/slipway}"
listen="${2:-10.${SLIPWAY_SWARM_LAB_NET:-231}.0.1:5000}"
dir="$cache_root/registry/${listen//[:\/]/_}"

say() { printf '%s\n' "registry: $*" >&2; }
die() { printf '%s\n' "registry: error: $*" >&2; exit 1; }

answers() { curl -fsS -o /dev/null --max-time 2 "http://$listen/v2/" 2>/dev/null; }

running() {  # our registry (a pid file can outlive its process)
  local pid
  [ -f "$dir/registry.pid" ] || return 1
  pid=$(cat "$dir/registry.pid")
  kill -0 "$pid" 2>/dev/null || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "serve $dir/config.yml"
}

start() {
  case "$listen" in *:[0-9]*) ;; *) die "'$listen' is not ADDR:PORT (e.g. 10.231.0.1:5000)";; esac
  if running && answers; then say "already serving http://$listen"; return; fi
  running && die "a registry of $dir runs but does not answer (log: $dir/registry.log). Recover: '$0 stop $listen', then start."
  local bin
  bin=$(bash "$here/toolchain.sh" registry-bin)
  [ -x "$bin" ] || bash "$here/toolchain.sh" registry
  mkdir -p "$dir/data"
  cat >"$dir/config.yml" <<EOF
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $dir/data
  delete:
    enabled: true
http:
  addr: $listen
EOF
  # No telemetry exporter: nothing outside the machine is ever contacted.
  OTEL_TRACES_EXPORTER=none OTEL_SDK_DISABLED=true \
    nohup "$bin" serve "$dir/config.yml" >"$dir/registry.log" 2>&1 &
  echo $! >"$dir/registry.pid"
  local _
  for _ in $(seq 1 60); do
    answers && { say "serving http://$listen (storage $dir/data)"; return; }
    running || break
    sleep 0.5
  done
  tail -n 20 "$dir/registry.log" >&2 || true
  die "the registry did not answer on http://$listen within 30 s (log above). Usual cause: the address is not on this machine (start the swarm lab first: 'sudo scripts/swarm-lab.sh start') or the port is taken."
}

stop() {
  if running; then
    local pid _
    pid=$(cat "$dir/registry.pid")
    kill "$pid"
    for _ in $(seq 1 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -rf "$dir"
  say "stopped; storage of $listen removed"
}

case "${1:-}" in
  start) start ;;
  url) echo "http://$listen" ;;
  stop) stop ;;
  status) running && answers || { say "not running on $listen"; exit 3; }; say "serving http://$listen" ;;
  *) die "unknown command '${1:-}' (use: start, url, stop, status [ADDR:PORT])" ;;
esac
