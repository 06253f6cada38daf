#!/usr/bin/env bash
# `pulumi ARGS` as `make up` runs it, from any directory: the toolchain's CLI and Docker
# engine (scripts/with-toolchain.sh), the checkout as the Pulumi project, the local file
# backend and its passphrase (scripts/backend-env.sh) unless PULUMI_BACKEND_URL and a
# passphrase are set. The `pulumi ...` commands Slipway's messages suggest run through it:
#   scripts/pulumi.sh config set --stack dev slipway:composeProject slipway-alice
set -euo pipefail
shopt -s inherit_errexit  # a failure inside $(...) stops the script too, as it would outside
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/backend-env.sh
exec bash scripts/with-toolchain.sh pulumi "$@"
