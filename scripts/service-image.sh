#!/usr/bin/env bash
# Build the service image from the repository's Dockerfile without a registry or a Pulumi
# download: the route our machines (and the image test) take.
#
#   scripts/service-image.sh [TAG [docker build options...]]     TAG: slipway-webhook:local
#   scripts/service-image.sh --build-args   make the two images below, print `NAME=value`
#                                           lines for the build (the control stack's
#                                           slipway:service.buildArgs; `make control-up`)
#
# The same Dockerfile as production, with two build arguments changed:
#   BASE_IMAGE=slipway/base:bookworm   Debian bookworm made by scripts/debian-base-image.sh
#                                      (built here when missing, cached by content)
#   PULUMI_CLI=slipway/pulumi-cli:<version>-<hash>   an image holding the toolchain's CLI
#                                      (and language hosts) in /opt/pulumi and its provider
#                                      plugins in /opt/pulumi-plugins, imported from
#                                      `make tools`'s cache, tagged by content
# The Dockerfile checks that this CLI is its PULUMI_VERSION. DOCKER_HOST says which engine.
set -euo pipefail
shopt -s inherit_errexit  # a failure inside $(...) stops the script too, as it would outside
cd "$(dirname "$0")/.."

say() { printf '%s\n' "service-image: $*" >&2; }
die() { printf '%s\n' "service-image: error: $*" >&2; exit 1; }

only_args=
if [ "${1:-}" = --build-args ]; then only_args=1; shift; fi
tag=${1:-slipway-webhook:local}
[ $# -eq 0 ] || shift

# The toolchain's pin: toolchain/pulumi/go.mod requires pkg/v3 at the CLI's version.
version=$(awk '$1 == "github.com/pulumi/pulumi/pkg/v3" { sub(/^v/, "", $2); print $2; exit }' \
  toolchain/pulumi/go.mod)
[ -n "$version" ] || die "toolchain/pulumi/go.mod requires no github.com/pulumi/pulumi/pkg/v3: it pins the CLI's version. Fix: restore that require line."
bindir=$(bash scripts/toolchain.sh bindir)
home=$(bash scripts/toolchain.sh env 2>/dev/null | sed -n 's/^export PULUMI_HOME="\(.*\)"$/\1/p') || true
[ -x "$bindir/pulumi" ] && [ -n "$home" ] || die "the Pulumi toolchain is not built ($bindir/pulumi is missing). Fix: run 'make tools'."
built=$("$bindir/pulumi" version)
[ "$built" = "v$version" ] || die "the toolchain's CLI is $built, toolchain/pulumi/go.mod pins v$version. Fix: run 'make tools' to rebuild it."
docker version >/dev/null 2>&1 || die "no Docker engine answers${DOCKER_HOST:+ on $DOCKER_HOST}. Fix: run 'make engine' (or scripts/with-toolchain.sh), or set DOCKER_HOST."

bash scripts/debian-base-image.sh

# The CLI image: the toolchain's bin folder (pulumi, pulumi-language-* when built, the
# dynamic-provider launcher) and its installed provider plugins, in the release's layout.
work=$(mktemp -d "${TMPDIR:-/tmp}/slipway-pulumi-cli.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/root/opt/pulumi" "$work/root/opt/pulumi-plugins"
cp -L "$bindir"/pulumi* "$work/root/opt/pulumi/"
for plugin in "$home"/plugins/resource-*/; do
  [ -d "$plugin" ] && cp -a "$plugin" "$work/root/opt/pulumi-plugins/"
done
tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$work/root" -cf "$work/cli.tar" .
cli="slipway/pulumi-cli:$version-$(sha256sum "$work/cli.tar" | cut -c1-12)"
if docker image inspect "$cli" >/dev/null 2>&1; then
  say "$cli is up to date"
else
  docker import "$work/cli.tar" "$cli" >/dev/null
  say "imported $cli from $bindir: $(ls "$work/root/opt/pulumi" | tr '\n' ' ')+ plugins: $(ls "$work/root/opt/pulumi-plugins" | tr '\n' ' ')"
fi
rm -f "$work/cli.tar"
if [ -n "$only_args" ]; then
  printf 'BASE_IMAGE=%s\nPULUMI_CLI=%s\n' slipway/base:bookworm "$cli"
  exit 0
fi

started=$(date +%s)
say "docker build -t $tag (BASE_IMAGE=slipway/base:bookworm, PULUMI_CLI=$cli)"
docker build --build-arg BASE_IMAGE=slipway/base:bookworm --build-arg "PULUMI_CLI=$cli" \
  -t "$tag" "$@" . \
  || die "docker build failed (see above). The Dockerfile's own messages name the build argument to fix; docs/install.md, \"Building the image without a registry\"."
say "built $tag in $(( $(date +%s) - started )) s"
