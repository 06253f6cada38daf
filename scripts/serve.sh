#!/usr/bin/env bash
# `make serve`: run the webhook service locally (127.0.0.1:8000 unless SLIPWAY_HOST/PORT say
# otherwise). Values in the environment or in .env are used as they are; a webhook secret or
# API token set in neither is generated once and kept in the state directory (mode 600):
# `serve --dev` says which, and where (webhook/devvalues.py).
set -euo pipefail
cd "$(dirname "$0")/.."
exec .venv/bin/python -m webhook serve --dev "$@"
