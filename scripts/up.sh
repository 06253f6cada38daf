#!/usr/bin/env bash
# `make up` / `make down`: deploy (or destroy) a stack on the local file backend.
#
#   scripts/up.sh STACK            pulumi up, then probe the stack's health checks (skipped
#                                  when nothing changed: webhook/runners/unchanged_up.py)
#   scripts/up.sh STACK --destroy  pulumi destroy
#
# The Pulumi program runs inline through the Automation API in a child process
# (webhook/runners/stack_process.py): no Pulumi language host is needed. `make up` runs this
# with the toolchain and the Docker engine in its environment (scripts/with-toolchain.sh).
set -euo pipefail
shopt -s inherit_errexit  # a failure inside $(...) stops the script too, as it would outside
stack="${1:-dev}"
action="${2:-}"
cd "$(dirname "$0")/.."

fail() { printf 'error: %s\n  fix: %s\n' "$1" "$2" >&2; exit 1; }

[ -x .venv/bin/python ] || fail "the project virtualenv (.venv) is missing" \
  "run 'make up' (it creates .venv from the locks), not scripts/up.sh directly"
command -v pulumi >/dev/null || fail "the Pulumi CLI is not on PATH" \
  "run 'make up' (it builds the pinned CLI with 'make tools'), or install Pulumi v3.274.1"
[ -f "Pulumi.${stack}.yaml" ] || fail "Pulumi.${stack}.yaml does not exist: this stack has no config" \
  "copy Pulumi.dev.yaml to Pulumi.${stack}.yaml and edit it (docs/compose-support.md lists the keys)"

# The file backend keeps secrets encrypted with a passphrase (scripts/backend-env.sh).
source scripts/backend-env.sh

echo "backend: ${PULUMI_BACKEND_URL}   docker: ${DOCKER_HOST:-default socket}"
PATH="$PWD/.venv/bin:$PATH"
if [ "$action" = "--destroy" ]; then
  .venv/bin/python -m webhook.runners.unchanged_up forget --stack "$stack"
  # A routed stack's proxy and releases are outside the state (docs/cutover.md): first.
  .venv/bin/python -m webhook.cutover.teardown --stack "$stack"
  .venv/bin/python -m webhook.runners.stack_process destroy --stack "$stack"
  # Built images are kept locally for rollbacks, so the destroy leaves their tags: last.
  exec .venv/bin/python -m webhook.cutover.teardown --stack "$stack" --images
fi
# Nothing changed since the last healthy `make up`: probe health, skip `up` (docs/performance.md).
if .venv/bin/python -m webhook.runners.unchanged_up check --stack "$stack"; then
  exit 0
fi
output=$(mktemp)
trap 'rm -f "$output"' EXIT
set +e
.venv/bin/python -m webhook.runners.stack_process up --stack "$stack" --check-health \
  --message "make up" 2>&1 | tee "$output"
status=${PIPESTATUS[0]}
set -e
case "$status" in
  # The URLs from the summary stack_process printed last (webhook/runners/summary.py): asking
  # `pulumi stack output` would start the CLI once more (docs/performance.md).
  0) urls=$(.venv/bin/python -m webhook.runners.summary urls "$output" || true)
     .venv/bin/python -m webhook.runners.unchanged_up record --stack "$stack" --summary "$output" || true
     echo "make up: stack '$stack' deployed and healthy.${urls:+ It answers at: $urls}" ;;
  4) fail "stack '$stack' is deployed but its health checks fail (see the probes above)" \
          "look at the containers' logs ('docker logs <name>'), fix, and run 'make up' again" ;;
  *) if grep -Eq 'is already in use by container|network with name .* already exists' "$output"; then
       fail "a container or network named like this stack's exists outside its state (named in the error above: left by a deleted state, an interrupted run or 'docker compose up')" \
            "remove it ('docker rm -f <container>' / 'docker network rm <network>'), or 'make down' with the state that created it, then 'make up' again"
     fi
     exit "$status" ;;
esac
