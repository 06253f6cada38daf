# Sourced by scripts/up.sh and scripts/pulumi.sh (run from the checkout root): the local
# file backend of `make up` and the passphrase of its secrets, unless the caller set them.
# Without a passphrase from the user, a generated one is kept next to the state (mode 600),
# said once, and reused.
export PULUMI_BACKEND_URL="${PULUMI_BACKEND_URL:-file://$PWD/.pulumi-state}"
if [ "${PULUMI_BACKEND_URL#file://}" != "$PULUMI_BACKEND_URL" ]; then
  state_dir="${PULUMI_BACKEND_URL#file://}"
  mkdir -p "$state_dir"
  if [ -z "${PULUMI_CONFIG_PASSPHRASE+x}" ] && [ -z "${PULUMI_CONFIG_PASSPHRASE_FILE:-}" ]; then
    passphrase_file="$state_dir/.passphrase"
    if [ ! -s "$passphrase_file" ]; then
      (umask 077 && .venv/bin/python -c 'import secrets; print(secrets.token_hex(24))' >"$passphrase_file")
      echo "note: generated the passphrase of this backend's secrets in $passphrase_file (keep it)" >&2
    fi
    export PULUMI_CONFIG_PASSPHRASE_FILE="$passphrase_file"
  fi
fi
