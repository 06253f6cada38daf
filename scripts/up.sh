#!/usr/bin/env bash
# `make up`: deploy a stack with the Pulumi CLI on the local file backend.
# Checks its prerequisites first and says what is missing and how to get it.
set -euo pipefail
stack="${1:-dev}"
cd "$(dirname "$0")/.."
# Local file backend so that `pulumi up` needs no cloud account (the Makefile sets the same).
export PULUMI_BACKEND_URL="${PULUMI_BACKEND_URL:-file://$PWD/.pulumi-state}"

missing=0
if [ ! -x .venv/bin/python ] || [ ! -x .venv/bin/docker-compose ]; then
  echo "error: the project virtualenv (.venv) is missing or incomplete." >&2
  echo "  fix: run 'make up' (it creates .venv from requirements.txt), not scripts/up.sh directly." >&2
  missing=1
fi
if ! command -v pulumi >/dev/null 2>&1; then
  echo "error: the Pulumi CLI is not installed." >&2
  echo "  fix: install it (https://www.pulumi.com/docs/install/, e.g. 'curl -fsSL https://get.pulumi.com | sh')," >&2
  echo "       put ~/.pulumi/bin on PATH, then run 'make up' again." >&2
  missing=1
fi
if [ ! -f "Pulumi.${stack}.yaml" ]; then
  echo "error: Pulumi.${stack}.yaml does not exist: this stack has no config." >&2
  echo "  fix: copy Pulumi.dev.yaml to Pulumi.${stack}.yaml and edit it (docs/compose-support.md lists the keys)." >&2
  missing=1
fi
docker_host=$(grep -E '^\s+slipway:dockerHost:' "Pulumi.${stack}.yaml" 2>/dev/null | awk '{print $2}' || true)
if [ -z "$docker_host" ]; then
  if ! docker info >/dev/null 2>&1; then
    echo "error: no Docker engine answers on this machine ('docker info' failed)." >&2
    echo "  fix: install and start Docker (https://docs.docker.com/engine/install/, then 'systemctl start docker')," >&2
    echo "       or set 'slipway:dockerHost' (e.g. ssh://deploy@vps.example.com) in Pulumi.${stack}.yaml." >&2
    missing=1
  fi
elif command -v docker >/dev/null 2>&1 && ! docker -H "$docker_host" info >/dev/null 2>&1; then
  echo "warning: 'docker -H $docker_host info' failed: check ssh access (ssh-agent, known_hosts) and that" >&2
  echo "         the remote user may use Docker; 'pulumi up' will fail the same way." >&2
fi
[ "$missing" = 0 ] || exit 1

mkdir -p .pulumi-state
if [ -z "${PULUMI_CONFIG_PASSPHRASE+x}" ] && [ -z "${PULUMI_CONFIG_PASSPHRASE_FILE:-}" ]; then
  echo "note: PULUMI_CONFIG_PASSPHRASE is not set; Pulumi will ask for the passphrase that protects this stack's secrets." >&2
fi
echo "backend: ${PULUMI_BACKEND_URL}"
pulumi stack select --create "$stack"
# The program runs in .venv (Pulumi.yaml: virtualenv .venv); Compose comes from there too.
PATH="$PWD/.venv/bin:$PATH" pulumi up --stack "$stack"
