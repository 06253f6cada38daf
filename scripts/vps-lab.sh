#!/usr/bin/env bash
# A loopback "VPS": a private sshd with a `deploy` user that reaches the project's engine.
#
#   scripts/vps-lab.sh start   start our sshd on 127.0.0.1:$SLIPWAY_VPS_LAB_PORT (default 2222)
#   scripts/vps-lab.sh env     print the exports that use it (DOCKER_HOST=ssh://deploy@...)
#   scripts/vps-lab.sh stop    stop the sshd this script started (never another)
#   scripts/vps-lab.sh status  say whether it runs and the docker CLI answers through it (exit 0),
#                              runs but docker fails over it (1), or is not running (3)
#
# It is what docs/install.md asks of a server, on this machine: `ssh://deploy@host` reaches
# the Docker engine as a user in the socket's group. Everything of ours lives under
# $SLIPWAY_CACHE_DIR/vps-lab (sshd config, host and client keys, known_hosts, ssh config, pid
# file, log); the system's sshd and /etc/ssh/sshd_config are never read or changed.
# docs/vps-lab.md says how to use it, how it fails and how to recover.
set -euo pipefail
shopt -s inherit_errexit  # a failure inside $(...) stops the script too, as it would outside
here="$(cd "$(dirname "$0")" && pwd)"

cache_root="${SLIPWAY_CACHE_DIR:-$HOME/.cache/slipway}"
lab="$cache_root/vps-lab"
port="${SLIPWAY_VPS_LAB_PORT:-2222}"
user=deploy
sshd_config="$lab/sshd_config"
pidfile="$lab/sshd.pid"
portfile="$lab/port"      # the port of the sshd that runs (env and a second start read it)
logfile="$lab/sshd.log"
host_key="$lab/ssh_host_ed25519_key"
client_key="$lab/id_ed25519"
known_hosts="$lab/known_hosts"
ssh_config="$lab/ssh_config"
wrapper_dir="$lab/bin"    # an `ssh` that reads our ssh_config: the docker CLI runs plain `ssh`

say() { printf '%s\n' "vps-lab: $*" >&2; }
die() { printf '%s\n' "vps-lab: error: $*" >&2; exit 1; }

ours_running() {
  [ -f "$pidfile" ] || return 1
  local pid; pid=$(cat "$pidfile")
  kill -0 "$pid" 2>/dev/null || return 1
  # A pid file can outlive its process and the pid be reused: it must be sshd with our config.
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "-f $sshd_config"
}

port_in_use() {  # something listens on 127.0.0.1:$1 (or on all addresses)
  if command -v ss >/dev/null; then
    [ -n "$(ss -ltnH "sport = :$1" 2>/dev/null)" ]
  else
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
  fi
}

need_root() {
  [ "$(id -u)" = 0 ] || die "creating the '$user' user and starting sshd need root. Fix: run 'sudo $0 start'."
}

install_packages() {  # Debian's sshd and setfacl (to let deploy through to the engine's socket)
  local missing=()
  [ -x /usr/sbin/sshd ] || missing+=(openssh-server)
  command -v setfacl >/dev/null || missing+=(acl)
  command -v ssh-keygen >/dev/null || missing+=(openssh-client)
  [ ${#missing[@]} = 0 ] && return
  command -v apt-get >/dev/null \
    || die "${missing[*]} missing and this is not a Debian machine (no apt-get). Fix: install an OpenSSH server (sshd at /usr/sbin/sshd) and setfacl with your package manager, then run '$0 start' again."
  say "installing Debian's ${missing[*]} (one time; the lab never configures the system's ssh service)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q "${missing[@]}" >/dev/null 2>&1 || {
    apt-get update -q >/dev/null && apt-get install -y -q "${missing[@]}" >/dev/null
  } || die "apt-get install ${missing[*]} failed. Fix: run 'apt-get update && apt-get install ${missing[*]}' and read its error."
}

# The engine the deploy user must reach: the one scripts/docker-engine.sh says answers. A
# DOCKER_HOST of ours (ssh://, from `eval "$(vps-lab.sh env)"`) is the lab itself: ignored.
engine_host() {
  local line
  if [[ ${DOCKER_HOST:-} == ssh://* ]]; then unset DOCKER_HOST; fi
  line=$(bash "$here/docker-engine.sh" env 2>/dev/null) \
    || die "no Docker engine answers. Fix: run 'scripts/docker-engine.sh start' (or 'make engine'), then '$0 start' again."
  echo "${line#export DOCKER_HOST=}"
}

ensure_user() {
  if ! id "$user" >/dev/null 2>&1; then
    say "creating user '$user' (login by key only)"
    # '*' as password: no password login, but not a locked account ('!'), which sshd refuses.
    useradd --create-home --shell /bin/bash --password '*' "$user"
  fi
  local hash; hash=$(getent shadow "$user" | cut -d: -f2)
  [[ $hash != '!'* ]] \
    || die "user '$user' exists with a locked account ('!' in /etc/shadow), which sshd refuses. Fix: 'usermod -p \"*\" $user' (no password, key login only) and run '$0 start' again."
}

# Like a real VPS: the deploy user is in the group that owns the engine's socket
# (`usermod -aG docker deploy`), and can walk the directories to it.
grant_engine_access() {
  local host="$1" sock group
  case "$host" in
    unix://*) sock="${host#unix://}" ;;
    *) say "engine at $host is not a unix socket: the deploy user uses it as it is"; return ;;
  esac
  [ -S "$sock" ] || die "engine socket $sock is missing. Fix: 'scripts/docker-engine.sh start'."
  group=$(stat -c %G "$sock")
  [ "$group" != root ] \
    || die "the engine's socket $sock belongs to group root: no group could give '$user' access without making it root's group. Fix: 'groupadd docker', restart the engine ('scripts/docker-engine.sh stop && scripts/docker-engine.sh start'; dockerd gives its socket to the docker group), then '$0 start' again."
  if ! id -nG "$user" | tr ' ' '\n' | grep -qx "$group"; then
    say "adding '$user' to group '$group' (the engine socket's group)"
    usermod -aG "$group" "$user"
  fi
  # Directories on the way that deny the user (e.g. /root, mode 700, when the engine runs from
  # root's cache) get one ACL entry: search (x) for the socket's group, no listing. So the
  # group alone decides, as on a server: take '$user' out of it and both the walk and the
  # socket are closed. Recorded in acl-granted so the docs can say what to undo.
  # Walked from / down: a directory can only be tested once its parents let the user through.
  local path="" part
  IFS=/ read -ra parts <<<"$(dirname "$sock")"
  for part in "${parts[@]}"; do
    [ -n "$part" ] || continue
    path="$path/$part"
    if ! runuser -u "$user" -- test -x "$path"; then
      setfacl -m "g:$group:x" "$path"
      grep -qxF "$path" "$lab/acl-granted" 2>/dev/null || echo "$path" >>"$lab/acl-granted"
      say "granted group '$group' search (x) on $path (ACL; listed in $lab/acl-granted)"
    fi
    runuser -u "$user" -- test -x "$path" \
      || die "'$user' (groups: $(id -nG "$user")) cannot pass through $path even with an ACL for group '$group' (not in that group, or ACLs unsupported on this file system?). Fix: 'usermod -aG $group $user'; if it is in the group already, run the engine with its socket outside $path (SLIPWAY_CACHE_DIR=/var/cache/slipway scripts/docker-engine.sh start), then '$0 start' again."
  done
  runuser -u "$user" -- test -r "$sock" -a -w "$sock" \
    || die "'$user' still cannot open $sock (group '$group', mode $(stat -c %a "$sock")). Fix: make the socket group-readable and -writable (dockerd does so by default), then '$0 start' again."
}

ensure_keys() {
  mkdir -p "$lab" "$wrapper_dir"
  chmod 700 "$lab"
  [ -f "$host_key" ] || ssh-keygen -q -t ed25519 -N '' -C slipway-vps-lab-host -f "$host_key"
  [ -f "$client_key" ] || ssh-keygen -q -t ed25519 -N '' -C slipway-vps-lab -f "$client_key"
  local home; home=$(getent passwd "$user" | cut -d: -f6)
  install -d -m 700 -o "$user" -g "$(id -gn "$user")" "$home/.ssh"
  local keys="$home/.ssh/authorized_keys" pub; pub=$(cat "$client_key.pub")
  touch "$keys"
  chown "$user:$(id -gn "$user")" "$keys"; chmod 600 "$keys"
  # `restrict`: no pty, no forwarding, no rc files: dial-stdio needs none of them. Under a lock:
  # several labs (tests run private ones) share this file.
  ( flock -w 10 9 || die "$keys.lock is held for 10 s"
    grep -qF "$pub" "$keys" || echo "restrict $pub" >>"$keys" ) 9>"$keys.lock"
}

revoke_key() {  # a stopped lab's key no longer logs in (start adds it again)
  [ "$(id -u)" = 0 ] && [ -f "$client_key.pub" ] && id "$user" >/dev/null 2>&1 || return 0
  local keys pub; keys="$(getent passwd "$user" | cut -d: -f6)/.ssh/authorized_keys"
  pub=$(cut -d' ' -f1,2 "$client_key.pub")
  [ -f "$keys" ] || return 0
  ( flock -w 10 9 || die "$keys.lock is held for 10 s"
    grep -vF "$pub" "$keys" >"$keys.new" || true
    chown "$user:$(id -gn "$user")" "$keys.new"; chmod 600 "$keys.new"; mv "$keys.new" "$keys"
  ) 9>"$keys.lock"
}

write_configs() {
  local host="$1"
  cat >"$sshd_config" <<EOF
# The vps-lab's own sshd (scripts/vps-lab.sh): loopback only, key login for '$user' only.
Port $port
ListenAddress 127.0.0.1
HostKey $host_key
PidFile $pidfile
AllowUsers $user
PermitRootLogin no
AuthenticationMethods publickey
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
# No PAM: the account needs no session modules (loginuid, systemd) that a container lacks.
UsePAM no
X11Forwarding no
AllowTcpForwarding no
PrintMotd no
LogLevel VERBOSE
# The engine's socket, for 'docker system dial-stdio' run by ssh://$user@... (docs/vps-lab.md).
# A server's engine is at /var/run/docker.sock and needs no such line.
Match User $user
  SetEnv DOCKER_HOST=$host
EOF
  # sshd's privilege separation directory (compiled in); Debian's service makes it at boot.
  install -d -m 755 /run/sshd
  /usr/sbin/sshd -t -f "$sshd_config" || die "sshd rejects $sshd_config (shown above)"
  local pub; pub=$(cut -d' ' -f1,2 "$host_key.pub")
  echo "[127.0.0.1]:$port $pub" >"$known_hosts"
  cat >"$ssh_config" <<EOF
# The ssh client side of the vps-lab (scripts/vps-lab.sh): no prompts, our key and host key only.
Host 127.0.0.1 localhost
  User $user
  Port $port
  IdentityFile $client_key
  IdentitiesOnly yes
  UserKnownHostsFile $known_hosts
  StrictHostKeyChecking yes
  BatchMode yes
  ConnectTimeout 10
# Everything else as the user's own ssh would do it (ssh -F reads only this file otherwise).
Host *
  Include ~/.ssh/config
  Include /etc/ssh/ssh_config
EOF
  local real_ssh
  real_ssh=$(PATH=$(printf '%s' "$PATH" | tr ':' '\n' | grep -vxF "$wrapper_dir" | paste -sd:) \
    command -v ssh) || die "no ssh client found. Fix: apt-get install openssh-client."
  cat >"$wrapper_dir/ssh" <<EOF
#!/bin/sh
# ssh with the vps-lab's config: the docker CLI runs plain \`ssh\` for DOCKER_HOST=ssh://...
exec $real_ssh -F "$ssh_config" "\$@"
EOF
  chmod 755 "$wrapper_dir/ssh"
}

check_lab() {  # the docker CLI over ssh://, exactly as a user of `env` will run it
  local port="$1" version
  if version=$(PATH="$wrapper_dir:$PATH" DOCKER_HOST="ssh://$user@127.0.0.1:$port" \
      timeout 60 docker version --format '{{.Server.Version}}' 2>"$lab/check.err"); then
    say "docker over ssh://$user@127.0.0.1:$port answers (engine $version)"
    return
  fi
  cat "$lab/check.err" >&2; tail -n 15 "$logfile" >&2 || true
  diagnose_access
  die "the docker CLI cannot reach the engine over ssh://$user@127.0.0.1:$port (its error and sshd's log $logfile are above). Fix: 'sudo $0 start' grants '$user' the engine again; docs/vps-lab.md lists the other causes."
}

diagnose_access() {  # name the usual cause: the deploy user cannot open the engine's socket
  local sock
  sock=$(sed -n 's|^ *SetEnv DOCKER_HOST=unix://||p' "$sshd_config" 2>/dev/null)
  [ -n "$sock" ] && [ "$(id -u)" = 0 ] && id "$user" >/dev/null 2>&1 || return 0
  runuser -u "$user" -- test -w "$sock" && return 0
  say "cause: user '$user' (groups: $(id -nG "$user")) cannot open $sock (owner $(stat -c %U:%G "$sock" 2>/dev/null || echo 'missing'), mode $(stat -c %a "$sock" 2>/dev/null || echo '-'))"
}

provision() {  # everything but sshd itself; each step does nothing when already done
  install_packages
  command -v docker >/dev/null \
    || die "no docker CLI on this machine: ssh://$user@... runs 'docker system dial-stdio' here. Fix: 'scripts/docker-engine.sh start' (installs Debian's docker.io)."
  local host; host=$(engine_host)
  mkdir -p "$lab"
  ensure_user
  grant_engine_access "$host"
  ensure_keys
  echo "$host"
}

start() {
  if ours_running; then
    local running; running=$(cat "$portfile" 2>/dev/null || echo "?")
    say "already running on 127.0.0.1:$running (pid $(cat "$pidfile"))"
    [ "$running" = "$port" ] || say "note: SLIPWAY_VPS_LAB_PORT=$port differs; run '$0 stop' first to move it"
    # A second start repairs what may have changed since (the user's group, the ACLs, a
    # restarted engine) and checks again; the sshd and its config stay as they are.
    if [ "$(id -u)" = 0 ]; then provision >/dev/null; fi
    check_lab "$running"
    return
  fi
  [[ $port =~ ^[0-9]+$ ]] && [ "$port" -ge 1 ] && [ "$port" -le 65535 ] \
    || die "SLIPWAY_VPS_LAB_PORT='$port' is not a TCP port. Fix: a number 1-65535, e.g. 2222."
  need_root
  if port_in_use "$port"; then
    die "port $port on 127.0.0.1 is in use by another program. Fix: SLIPWAY_VPS_LAB_PORT=<free port> $0 start (see: ss -ltnp 'sport = :$port')."
  fi
  local host; host=$(provision)
  write_configs "$host"
  : >"$logfile"
  /usr/sbin/sshd -f "$sshd_config" -E "$logfile" \
    || { tail -n 15 "$logfile" >&2; die "sshd did not start (its log is above)"; }
  for _ in $(seq 1 50); do ours_running && break; sleep 0.1; done
  ours_running || { tail -n 15 "$logfile" >&2; die "sshd did not stay up (its log is above)"; }
  echo "$port" >"$portfile"
  say "sshd runs on 127.0.0.1:$port (pid $(cat "$pidfile"); config, keys and log in $lab)"
  check_lab "$port"
}

stop() {
  if ! ours_running; then say "no sshd of ours is running"; rm -f "$portfile"; return; fi
  local pid; pid=$(cat "$pidfile")
  say "stopping our sshd (pid $pid)"
  # The listener only: sessions in progress end on their own (as with a server's sshd).
  kill "$pid"
  for _ in $(seq 1 50); do
    kill -0 "$pid" 2>/dev/null || { rm -f "$portfile" "$pidfile"; revoke_key; say "stopped (its key no longer logs in)"; return; }
    sleep 0.1
  done
  die "sshd (pid $pid) did not stop within 5 s"
}

status() {
  if ! ours_running; then say "not running (start it with '$0 start')"; exit 3; fi
  local running; running=$(cat "$portfile")
  say "sshd runs on 127.0.0.1:$running (pid $(cat "$pidfile"))"
  ( check_lab "$running" ) || exit 1
}

print_env() {
  ours_running || die "the vps-lab is not running. Fix: run '$0 start'."
  local running; running=$(cat "$portfile")
  echo "export DOCKER_HOST=ssh://$user@127.0.0.1:$running"
  echo "export PATH=\"$wrapper_dir:\$PATH\""
  echo "export SLIPWAY_VPS_SSH_CONFIG=$ssh_config"
  echo "export SLIPWAY_VPS_SSH_KEY=$client_key"
  echo "export SLIPWAY_VPS_KNOWN_HOSTS=$known_hosts"
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  env) print_env ;;
  status) status ;;
  *) die "unknown command '$1' (use: start, env, stop, status)" ;;
esac
