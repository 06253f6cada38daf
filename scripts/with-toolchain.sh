#!/usr/bin/env bash
# Run a command with the project's toolchain and Docker engine in its environment:
# pulumi (and our Pulumi home) from `make tools`, DOCKER_HOST of the engine that answers.
set -euo pipefail
shopt -s inherit_errexit  # a failure inside $(...) stops the script too, as it would outside
here="$(dirname "$0")"
# Assigned first: a failure inside `eval "$(...)"` would be lost, and the command would run
# without the toolchain or the engine it was promised.
toolchain_env=$(bash "$here/toolchain.sh" env)
engine_env=$(bash "$here/docker-engine.sh" env)
eval "$toolchain_env"
eval "$engine_env"
exec "$@"
