#!/usr/bin/env bash
# Run a command with the project's toolchain and Docker engine in its environment:
# pulumi (and our Pulumi home) from `make tools`, DOCKER_HOST of the engine that answers.
set -euo pipefail
here="$(dirname "$0")"
eval "$(bash "$here/toolchain.sh" env)"
eval "$(bash "$here/docker-engine.sh" env)"
exec "$@"
