#!/usr/bin/env bash
# `make tools`: get the pinned Pulumi toolchain into a cache outside the checkout.
#
#   scripts/toolchain.sh build   build (or reuse) pulumi, its Python language host and the
#                                docker and github providers
#   scripts/toolchain.sh bindir  print the folder that holds them (builds nothing)
#   scripts/toolchain.sh env     print the exports that put them to use (eval "$(...)")
#   scripts/toolchain.sh registry      build (or reuse) the registry server of the Swarm
#                                      tests (scripts/registry.sh); `build` builds it too
#   scripts/toolchain.sh registry-bin  print its path (builds nothing)
#
# Everything is built from Go modules at the versions in toolchain/*/go.mod (go.sum checks
# them); the cache folder is keyed by a hash of those files and of the Go version, so later
# runs and CI on the same machine reuse it. docs/toolchain.md says what is built and why.
set -euo pipefail
shopt -s inherit_errexit  # a failure inside $(...) stops the script too, as it would outside
cd "$(dirname "$0")/.."

PULUMI_VERSION=3.274.1   # the CLI; toolchain/pulumi/go.mod requires pkg/v3 at this version
DOCKER_SDK_VERSION=5.2.0 # pulumi-docker in requirements.txt: the provider answers as this
GITHUB_SDK_VERSION=6.15.0 # pulumi-github in requirements.txt
export GOTOOLCHAIN=local GOFLAGS=-mod=readonly CGO_ENABLED=0
# Go's own installer puts it in /usr/local/go; a non-login shell may not have it on PATH.
command -v go >/dev/null || PATH="/usr/local/go/bin:$PATH"
cache_root="${SLIPWAY_CACHE_DIR:-$HOME/.cache/slipway}"

say() { printf '%s\n' "toolchain: $*" >&2; }
die() { printf '%s\n' "toolchain: error: $*" >&2; exit 1; }

toolchain_key() {
  { go version 2>/dev/null || echo "no go"; echo "$PULUMI_VERSION $DOCKER_SDK_VERSION $GITHUB_SDK_VERSION";
    find toolchain -path toolchain/registry -prune -o -type f \( -name go.mod -o -name go.sum -o -name '*.go' \) -print0 \
      | sort -z | xargs -0 sha256sum; } | sha256sum | cut -c1-16
}

# Computed once: the key hashes every file under toolchain/ and runs `go version`.
key_dir="$cache_root/toolchain/$(toolchain_key)"
bindir() { echo "$key_dir/bin"; }

# A Pulumi home of our own (plugin cache, workspaces): the providers built here are
# installed into it under the SDKs' versions, and nothing of a user's ~/.pulumi is touched.
# Providers are kept off PATH (where the CLI would take them with a warning on every run);
# they are installed into the plugin cache of our Pulumi home instead.
providerdir() { echo "$key_dir/providers"; }

pulumi_home() { echo "$key_dir/home"; }

# The registry server (distribution's `registry`, toolchain/registry/go.mod) has a key of its
# own: adding or bumping it never invalidates the Pulumi toolchain's cache.
registry_bin() {
  local key
  key=$({ go version 2>/dev/null || echo "no go"; sha256sum toolchain/registry/go.mod toolchain/registry/go.sum; } \
    | sha256sum | cut -c1-16)
  echo "$cache_root/toolchain/registry-$key/registry"
}

build_registry() {
  command -v go >/dev/null || die "Go is not installed: the registry is built from Go modules. Fix: install Go 1.26+ and run 'make tools' again."
  local out; out=$(registry_bin); mkdir -p "$(dirname "$out")"
  go_build "$out" toolchain/registry github.com/distribution/distribution/v3/cmd/registry ""
}

print_env() {
  local dir; dir=$(bindir)
  [ -x "$dir/pulumi" ] || die "the toolchain is not built: run 'make tools'"
  echo "export PATH=\"$dir:\$PATH\""
  echo "export PULUMI_HOME=\"$(pulumi_home)\""
  echo "export PULUMI_SKIP_UPDATE_CHECK=true PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true"
}

install_plugin() {  # install_plugin NAME VERSION: into our Pulumi home's plugin cache
  local name="$1" version="$2"
  if PULUMI_HOME=$(pulumi_home) "$(bindir)/pulumi" plugin ls 2>/dev/null \
      | grep -Eq "^$name +resource +$version "; then return; fi
  PULUMI_HOME=$(pulumi_home) PULUMI_SKIP_UPDATE_CHECK=true "$(bindir)/pulumi" plugin install \
    resource "$name" "$version" --file "$(providerdir)/pulumi-resource-$name" >/dev/null
  say "plugin $name $version installed into $(pulumi_home)"
}

go_tags() { echo "osusergo,grpcnotrace${1:+,$1}"; }  # go_tags [EXTRA]: every build's tags
DOCKER_PROVIDER_TAGS=no_compose

# The docker provider shim's Go test (tests/test_docker_provider_shim.py), compiled with the
# provider's own flags so that it reuses the packages the build compiled.
test_docker_shim() {
  cd toolchain/docker-provider
  go test -trimpath -tags "$(go_tags "$DOCKER_PROVIDER_TAGS")" -count=1 \
    -run TestPromptNetworkMatchesTheUpstream github.com/terraform-providers/terraform-provider-docker/shim
}

# go_build OUT MODULE_DIR PACKAGE LDFLAGS [TAGS]: build one binary with a progress line
# every 50 packages (a cold build compiles a few thousand and takes many minutes).
go_build() {
  local out="$1" dir="$2" pkg="$3" ldflags="$4" tags="${5:-}" name started
  name=$(basename "$out")
  if [ -x "$out" ]; then say "$name: cached ($out)"; return; fi
  started=$(date +%s)
  say "$name: building $pkg (cold: 3-8 min each on 2 cores; progress every 50 packages)"
  (cd "$dir" && go build -v -trimpath -tags "$(go_tags "$tags")" \
      -ldflags "-s -w $ldflags" -o "$out.partial" "$pkg") 2>&1 \
    | awk -v name="$name" '
        /^(#|go: |[^ ]+\.go:)/ { print; fflush(); next }
        { n++; if (n % 50 == 0) { printf "toolchain: %s: %d packages compiled\n", name, n; fflush() } }' >&2
  [ "${PIPESTATUS[0]}" = 0 ] && [ -x "$out.partial" ] || die "$name: go build failed (see above)"
  mv "$out.partial" "$out"   # only a complete binary ever carries the final name
  say "$name: built in $(( $(date +%s) - started )) s"
}

use_installed_pulumi() {  # an installed pulumi of the pinned version is used as is
  local installed
  installed=$(command -v pulumi 2>/dev/null) || return 1
  [ "$installed" != "$(bindir)/pulumi" ] || return 1
  [ "$("$installed" version 2>/dev/null)" = "v$PULUMI_VERSION" ] || return 1
  ln -sf "$installed" "$(bindir)/pulumi"
  say "pulumi: using the installed $installed (v$PULUMI_VERSION)"
}

# The Python language host (`pulumi up` / `preview` from the bare CLI): ours, on sdk/v3 at
# the CLI's version (toolchain/language-python), with the SDK's exec script from that same
# module next to it. An installed CLI keeps the host installed beside it: one found on PATH
# instead would make the CLI warn on every run.
build_language_host() {
  local dir="$1" installed
  installed=$(readlink -f "$dir/pulumi" 2>/dev/null || true)
  if [ -L "$dir/pulumi" ] && [ -x "$(dirname "$installed")/pulumi-language-python" ]; then
    say "pulumi-language-python: the installed CLI's own, next to $installed"
    return
  fi
  go_build "$dir/pulumi-language-python" toolchain/language-python . "-X main.version=$PULUMI_VERSION"
  if [ ! -x "$dir/pulumi-language-python-exec" ]; then
    local sdk
    sdk=$(cd toolchain/language-python && go list -m -f '{{.Dir}}' github.com/pulumi/pulumi/sdk/v3)
    install -m 0755 "$sdk/python/cmd/pulumi-language-python-exec" "$dir/"
  fi
}

# Written when a build ended with every part checked; while it stands and the parts are
# still there, a build starts no CLI (its version and plugin checks cost ~1 s per `make up`).
ready_stamp() { echo "$key_dir/ready"; }

still_ready() {
  local dir part
  dir=$(bindir)
  [ -f "$(ready_stamp)" ] || return 1
  for part in "$dir/pulumi" "$dir/pulumi-language-python" "$dir/pulumi-resource-pulumi-python" \
      "$(providerdir)/pulumi-resource-docker" "$(providerdir)/pulumi-resource-github" "$(registry_bin)"; do
    [ -x "$part" ] || return 1
  done
  [ -d "$(pulumi_home)/plugins/resource-docker-v$DOCKER_SDK_VERSION" ] \
    && [ -d "$(pulumi_home)/plugins/resource-github-v$GITHUB_SDK_VERSION" ]
}

build() {
  command -v go >/dev/null || die "Go is not installed: the toolchain is built from Go modules. Fix: install Go 1.26+ (https://go.dev/doc/install) and run 'make tools' again."
  local dir total_started
  if still_ready; then
    say "ready: pulumi v$PULUMI_VERSION, docker provider $DOCKER_SDK_VERSION, github provider $GITHUB_SDK_VERSION (checked when built: $(ready_stamp))"
    return
  fi
  rm -f "$(ready_stamp)"
  dir=$(bindir); mkdir -p "$dir" "$(providerdir)"; total_started=$(date +%s)
  say "cache: $(dirname "$dir")"
  use_installed_pulumi || go_build "$dir/pulumi" toolchain/pulumi github.com/pulumi/pulumi/pkg/v3/cmd/pulumi \
    "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$PULUMI_VERSION"
  go_build "$(providerdir)/pulumi-resource-docker" toolchain/docker-provider . "-X main.version=$DOCKER_SDK_VERSION" "$DOCKER_PROVIDER_TAGS"
  go_build "$(providerdir)/pulumi-resource-github" toolchain/github-provider . "-X main.version=$GITHUB_SDK_VERSION"
  build_language_host "$dir"
  # Dynamic providers: the SDK's own launcher script, from the sdk/v3 module already in use.
  if [ ! -x "$dir/pulumi-resource-pulumi-python" ]; then
    local sdk
    sdk=$(cd toolchain/pulumi && go list -m -f '{{.Dir}}' github.com/pulumi/pulumi/sdk/v3)
    install -m 0755 "$sdk/python/dist/pulumi-resource-pulumi-python" "$dir/"
  fi
  [ "$("$dir/pulumi" version)" = "v$PULUMI_VERSION" ] || die "pulumi version is not v$PULUMI_VERSION"
  install_plugin docker "$DOCKER_SDK_VERSION"
  install_plugin github "$GITHUB_SDK_VERSION"
  build_registry
  date -u +%FT%TZ > "$(ready_stamp)"
  say "ready in $(( $(date +%s) - total_started )) s: pulumi v$PULUMI_VERSION (+ python language host), docker provider $DOCKER_SDK_VERSION, github provider $GITHUB_SDK_VERSION"
}

case "${1:-build}" in
  build) build ;;
  bindir) bindir ;;
  env) print_env ;;
  registry) build_registry ;;
  registry-bin) registry_bin ;;
  test-docker-shim) test_docker_shim ;;
  *) die "unknown command '$1' (use: build, bindir, env, registry, registry-bin, test-docker-shim)" ;;
esac
