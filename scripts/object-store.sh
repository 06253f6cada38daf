#!/usr/bin/env bash
# An S3-compatible object store on loopback: the shared Pulumi backend of the "VPS" lab.
#
#   scripts/object-store.sh start   start moto_server on 127.0.0.1:$SLIPWAY_OBJECT_STORE_PORT
#                                   (default 9555) and create the bucket (default slipway-state)
#   scripts/object-store.sh env     print the exports that use it (PULUMI_BACKEND_URL=s3://...)
#   scripts/object-store.sh stop    stop the moto_server this script started (never another)
#   scripts/object-store.sh status  running and the bucket answers (0), not (3)
#
# docs/install.md recommends an object store that the engineer and the deploy service share,
# so both see the same stack and its lock; this is that store on one machine. moto keeps
# everything in memory: a stop (or a crash) loses every stack in it. Its pid file, port and
# log are under $SLIPWAY_CACHE_DIR/object-store. docs/vps-lab.md has use, failures, recovery.
set -euo pipefail
shopt -s inherit_errexit  # a failure inside $(...) stops the script too, as it would outside
repo="$(cd "$(dirname "$0")/.." && pwd)"

cache_root="${SLIPWAY_CACHE_DIR:-$HOME/.cache/slipway}"
dir="$cache_root/object-store"
port="${SLIPWAY_OBJECT_STORE_PORT:-9555}"
bucket="${SLIPWAY_OBJECT_STORE_BUCKET:-slipway-state}"
pidfile="$dir/moto.pid"
portfile="$dir/port"      # port and bucket of the server that runs (env and status read them)
bucketfile="$dir/bucket"
logfile="$dir/moto.log"
moto="${SLIPWAY_MOTO_SERVER:-$repo/.venv/bin/moto_server}"

say() { printf '%s\n' "object-store: $*" >&2; }
die() { printf '%s\n' "object-store: error: $*" >&2; exit 1; }

ours_running() {
  [ -f "$pidfile" ] || return 1
  local pid; pid=$(cat "$pidfile")
  kill -0 "$pid" 2>/dev/null || return 1
  # A reused pid is not ours: it must be moto_server on our port.
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "moto_server.* -p $(cat "$portfile" 2>/dev/null) "
}

port_in_use() { [ -n "$(ss -ltnH "sport = :$1" 2>/dev/null)" ] || (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# HTTP status of METHOD on the store's PATH (000 when nothing answers). No S3 signature: moto
# accepts unsigned requests, and curl (or python) is all the script needs.
http() {
  curl -s -o /dev/null -w '%{http_code}' --max-time 5 -X "$1" "http://127.0.0.1:$2$3" || true
}

bucket_answers() { [ "$(http HEAD "$1" "/$2")" = 200 ]; }

start() {
  if ours_running; then
    local p b; p=$(cat "$portfile"); b=$(cat "$bucketfile")
    [ "$p" = "$port" ] || say "note: SLIPWAY_OBJECT_STORE_PORT=$port differs from the running $p; run '$0 stop' first to move it"
    [ "$b" = "$bucket" ] || die "running with bucket '$b', not '$bucket'. Fix: '$0 stop' (it loses the stacks in '$b'), then start again; or unset SLIPWAY_OBJECT_STORE_BUCKET."
    bucket_answers "$p" "$b" || die "moto_server (pid $(cat "$pidfile")) runs but bucket '$b' does not answer on 127.0.0.1:$p (log: $logfile). Fix: '$0 stop && $0 start' (the stacks in it are lost)."
    say "already running on 127.0.0.1:$p with bucket '$b' (pid $(cat "$pidfile"))"
    return
  fi
  [[ $port =~ ^[0-9]+$ ]] && [ "$port" -ge 1 ] && [ "$port" -le 65535 ] \
    || die "SLIPWAY_OBJECT_STORE_PORT='$port' is not a TCP port. Fix: a number 1-65535, e.g. 9555."
  [[ $bucket =~ ^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$ ]] \
    || die "SLIPWAY_OBJECT_STORE_BUCKET='$bucket' is not an S3 bucket name. Fix: 3-63 of a-z, 0-9, '.', '-', starting and ending with a letter or digit."
  [ -x "$moto" ] || die "$moto not found. Fix: 'make venv' (moto is in requirements-dev.txt)."
  command -v curl >/dev/null || die "curl not found. Fix: apt-get install curl."
  port_in_use "$port" \
    && die "port $port on 127.0.0.1 is in use by another program. Fix: SLIPWAY_OBJECT_STORE_PORT=<free port> $0 start (see: ss -ltnp 'sport = :$port')."
  mkdir -p "$dir"
  : >"$logfile"
  echo "$port" >"$portfile"; echo "$bucket" >"$bucketfile"
  # setsid: its own session, so the caller's Ctrl-C or exit does not take it down.
  setsid "$moto" -H 127.0.0.1 -p "$port" >>"$logfile" 2>&1 </dev/null &
  echo $! >"$pidfile"
  local code=000
  for _ in $(seq 1 100); do
    code=$(http GET "$port" /)
    [ "$code" = 200 ] && break
    kill -0 "$(cat "$pidfile")" 2>/dev/null || break
    sleep 0.1
  done
  [ "$code" = 200 ] || { tail -n 20 "$logfile" >&2; rm -f "$pidfile"; die "moto_server did not answer on 127.0.0.1:$port within 10 s (its log is above)"; }
  code=$(http PUT "$port" "/$bucket")
  [ "$code" = 200 ] || { tail -n 5 "$logfile" >&2; die "creating bucket '$bucket' answered HTTP $code (log above)"; }
  say "moto_server runs on 127.0.0.1:$port with bucket '$bucket' (pid $(cat "$pidfile"); in memory: a stop loses its stacks)"
}

stop() {
  if ! ours_running; then say "no moto_server of ours is running"; rm -f "$pidfile" "$portfile" "$bucketfile"; return; fi
  local pid; pid=$(cat "$pidfile")
  say "stopping our moto_server (pid $pid; the stacks in it are gone)"
  kill "$pid"
  for _ in $(seq 1 50); do
    kill -0 "$pid" 2>/dev/null || { rm -f "$pidfile" "$portfile" "$bucketfile"; say "stopped"; return; }
    sleep 0.1
  done
  die "moto_server (pid $pid) did not stop within 5 s"
}

status() {
  ours_running || { say "not running (start it with '$0 start')"; exit 3; }
  local p b; p=$(cat "$portfile"); b=$(cat "$bucketfile")
  bucket_answers "$p" "$b" || { say "moto_server (pid $(cat "$pidfile")) runs but bucket '$b' does not answer on 127.0.0.1:$p"; exit 1; }
  say "runs on 127.0.0.1:$p with bucket '$b' (pid $(cat "$pidfile"))"
}

print_env() {
  ours_running || die "the object store is not running. Fix: run '$0 start'."
  local p b; p=$(cat "$portfile"); b=$(cat "$bucketfile")
  echo "export PULUMI_BACKEND_URL='s3://$b?endpoint=127.0.0.1:$p&disableSSL=true&s3ForcePathStyle=true'"
  # Dummy credentials (moto checks none) so the AWS SDK never looks further for real ones;
  # no instance-metadata look-up (an address off this machine).
  echo "export AWS_ACCESS_KEY_ID=slipway-lab AWS_SECRET_ACCESS_KEY=slipway-lab AWS_REGION=us-east-1"
  echo "export AWS_EC2_METADATA_DISABLED=true"
  # moto sends no response checksums: without these the SDK warns on every read.
  echo "export AWS_REQUEST_CHECKSUM_CALCULATION=when_required AWS_RESPONSE_CHECKSUM_VALIDATION=when_required"
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  env) print_env ;;
  status) status ;;
  *) die "unknown command '$1' (use: start, env, stop, status)" ;;
esac
