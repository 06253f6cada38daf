#!/usr/bin/env bash
# `make serve`: run the webhook service locally (127.0.0.1:8000 unless SLIPWAY_HOST/PORT say
# otherwise). Values in the environment or in .env are used as they are; a webhook secret or
# API token set in neither is generated once and kept in the state directory (mode 600):
# `serve --dev` says which, and where (webhook/devvalues.py).
set -euo pipefail
shopt -s inherit_errexit  # a failure inside $(...) stops the script too, as it would outside
# Deployments need `pulumi` and the Docker engine: the service runs with the toolchain's
# PATH and engine (scripts/with-toolchain.sh), as `make up` does. Without them it still
# starts, says why here, and /readyz and /ui name what is missing.
cd "$(dirname "$0")/.."
if bash scripts/with-toolchain.sh true 2>/dev/null; then
    exec bash scripts/with-toolchain.sh .venv/bin/python -m webhook serve --dev "$@"
fi
echo "make serve: no Pulumi toolchain or Docker engine (scripts/with-toolchain.sh failed:" \
    "run \`make tools\`): deployments will stay queued; /readyz says what is missing" >&2
exec .venv/bin/python -m webhook serve --dev "$@"
