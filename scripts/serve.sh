#!/usr/bin/env bash
# `make serve`: run the webhook service locally (127.0.0.1:8000 unless SLIPWAY_HOST/PORT say
# otherwise). Without SLIPWAY_WEBHOOK_SECRET / SLIPWAY_API_TOKEN it generates development
# values once, keeps them in the state directory (mode 600) and prints them that one time.
set -euo pipefail
cd "$(dirname "$0")/.."

state_dir="${SLIPWAY_STATE_DIR:-./var}"
mkdir -p "$state_dir"

dev_value() {  # dev_value NAME FILE: reuse FILE, or create it and print the new value once
  local name="$1" file="$2"
  if [ ! -s "$file" ]; then
    (umask 077 && .venv/bin/python -c 'import secrets; print(secrets.token_hex(32))' >"$file")
    echo "generated a development $name (kept in $file; shown only this once):" >&2
    echo "  $(cat "$file")" >&2
  fi
  cat "$file"
}

if [ -z "${SLIPWAY_WEBHOOK_SECRET:-}" ]; then
  SLIPWAY_WEBHOOK_SECRET="$(dev_value "webhook secret (SLIPWAY_WEBHOOK_SECRET)" "$state_dir/dev-webhook-secret")"
  export SLIPWAY_WEBHOOK_SECRET
fi
if [ -z "${SLIPWAY_API_TOKEN:-}" ]; then
  SLIPWAY_API_TOKEN="$(dev_value "API token (SLIPWAY_API_TOKEN)" "$state_dir/dev-api-token")"
  export SLIPWAY_API_TOKEN
fi
export SLIPWAY_STATE_DIR="$state_dir"
exec .venv/bin/python -m webhook serve "$@"
