#!/usr/bin/env bash
# `python -m components.compose` from any directory: the project's own venv and code, the
# caller's working directory (relative FILE paths stay the caller's). docs/migration.md.
set -euo pipefail
shopt -s inherit_errexit  # a failure inside $(...) stops the script too, as it would outside
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
python="$root/.venv/bin/python"
if [ ! -x "$python" ]; then
    echo "compose-migrate: $python is missing: run \`make venv\` in $root first" >&2
    exit 2
fi
PYTHONPATH="$root${PYTHONPATH:+:$PYTHONPATH}" exec "$python" -m components.compose "$@"
