#!/usr/bin/env bash
# Make the local base image `slipway/base:bookworm` without any registry.
#
# The service image's production base is python:3.11.x-slim-bookworm, which our machines cannot
# pull. This builds the same Debian release with debootstrap (minbase, plus Python 3.11 with
# venv, `python` pointing at python3, CA certificates and netbase, as in the slim images) from
# the Debian mirror apt already uses here, and imports it with `docker import`. The Dockerfile
# apt-installs git and openssh-client on top, from the same mirror, as it does in production.
#
# It is tagged by content too (slipway/base:bookworm-<key>): the key hashes the debootstrap
# arguments and the suite's Release file that apt holds for that mirror (it changes at each
# Debian point release, after an `apt-get update`), so a second run does nothing.
#   SLIPWAY_DEBIAN_MIRROR=http://...   use that mirror instead of apt's (no Release cache key
#                                      then: the key is the arguments alone)
# DOCKER_HOST says which engine. docs/install.md, "Building the image without a registry".
set -euo pipefail
shopt -s inherit_errexit  # a failure inside $(...) stops the script too, as it would outside

say() { printf '%s\n' "debian-base-image: $*" >&2; }
die() { printf '%s\n' "debian-base-image: error: $*" >&2; exit 1; }

suite=bookworm
variant=minbase
include=ca-certificates,netbase,python-is-python3,python3,python3-venv
image=slipway/base:bookworm

# Every (type, URI, suite) apt reads: one-line sources.list files and deb822 .sources files.
apt_sources() {
  local f
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    # deb [options] URI suite components...
    sed -E 's/#.*//; s/\[[^]]*\]//' "$f" | awk '$1 == "deb" { print "deb", $2, $3 }'
  done
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    awk 'function flush() { if (types ~ /(^| )deb( |$)/ && enabled != "no")
                              { n = split(uris, u, " "); m = split(suites, s, " ");
                                for (i = 1; i <= n; i++) for (j = 1; j <= m; j++) print "deb", u[i], s[j] }
                            types = uris = suites = ""; enabled = "" }
         /^[ \t]*#/ { next }
         /^[ \t]*$/ { flush(); next }
         { key = tolower($1); sub(/:$/, "", key); $1 = ""; sub(/^ +/, "");
           if (key == "types") types = $0; else if (key == "uris") uris = $0;
           else if (key == "suites") suites = $0; else if (key == "enabled") enabled = tolower($0) }
         END { flush() }' "$f"
  done
}

mirror_for() {  # mirror_for SUITE: the first URI apt uses for that suite
  apt_sources | awk -v s="$1" '$3 == s { print $2; exit }'
}

if [ -n "${SLIPWAY_DEBIAN_MIRROR:-}" ]; then
  mirror=$SLIPWAY_DEBIAN_MIRROR
else
  mirror=$(mirror_for "$suite")
  [ -n "$mirror" ] || die "apt has no '$suite' source in /etc/apt/sources.list or /etc/apt/sources.list.d/ (is this Debian 12?). Fix: set SLIPWAY_DEBIAN_MIRROR to a Debian mirror URL that serves $suite."
fi
mirror=${mirror%/}
security=$(mirror_for "$suite-security" || true)

# The suite's Release as apt last saw it (file name: the URI without its scheme, / -> _).
release_file() {
  local base=${mirror#*://}
  base=${base//\//_}
  for f in "/var/lib/apt/lists/${base}_dists_${suite}_InRelease" \
           "/var/lib/apt/lists/${base}_dists_${suite}_Release"; do
    [ -f "$f" ] && { echo "$f"; return 0; }
  done
  return 1
}

can_apt() { [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; }

release=""
if [ -z "${SLIPWAY_DEBIAN_MIRROR:-}" ]; then
  if ! release=$(release_file); then
    can_apt || die "apt has no Release file for $mirror $suite. Fix: run 'apt-get update' as root, then run this again."
    say "apt has no Release file for $mirror $suite yet: running apt-get update"
    apt-get update -q >/dev/null
    release=$(release_file) || die "apt-get update fetched no Release file for $mirror $suite. Fix: check that $mirror answers ('apt-get update' shows the error)."
  fi
fi

# The key: what debootstrap is asked for, the Release it resolves against, the site CAs added
# below, this script's image recipe (the lines that shape the root), not the mirror's name.
key=$({ echo "$suite $variant $include ${security:+security}"
        [ -z "$release" ] || sha256sum <"$release"
        cat /usr/local/share/ca-certificates/*.crt 2>/dev/null | sha256sum
        sed -n '/^# --- recipe/,$p' "$0"; } | sha256sum | cut -c1-12)
content_tag="$image-$key"
if docker image inspect "$content_tag" >/dev/null 2>&1; then
  docker tag "$content_tag" "$image"
  say "$image is up to date ($content_tag)"
  exit 0
fi
docker version >/dev/null 2>&1 || die "no Docker engine answers${DOCKER_HOST:+ on $DOCKER_HOST}. Fix: run 'make engine' (or use scripts/with-toolchain.sh), or set DOCKER_HOST."

if ! command -v debootstrap >/dev/null; then
  can_apt || die "debootstrap is needed to build the Debian base. Fix: install Debian's debootstrap package (as root: apt-get install debootstrap)."
  say "installing Debian's debootstrap (one time)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q debootstrap >/dev/null \
    || { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q debootstrap >/dev/null; } \
    || die "could not install debootstrap with apt-get (see above)"
fi
[ "$(id -u)" = 0 ] || die "debootstrap needs root (it creates device files and runs dpkg in a chroot). Fix: run this as root."

# --- recipe (part of the cache key) -------------------------------------------------------
work=$(mktemp -d "${TMPDIR:-/tmp}/slipway-bookworm.XXXXXX")
trap 'rm -rf "$work"' EXIT
root="$work/root"
started=$(date +%s)
say "debootstrap --variant=$variant $suite from $mirror (cold: about a minute; log: $work/debootstrap.log)"
if ! debootstrap --variant="$variant" --include="$include" "$suite" "$root" "$mirror" \
    >"$work/debootstrap.log" 2>&1; then
  tail -n 20 "$work/debootstrap.log" >&2
  trap - EXIT
  die "debootstrap failed (last lines above; full log in $work/debootstrap.log). Fix: check that $mirror serves $suite ('apt-get update' on this machine shows whether it answers)."
fi

# apt sources inside the image: the same mirror for the suite and its updates, and the
# security archive apt uses here, so `apt-get install` in the Dockerfile gets current fixes.
{
  echo "deb $mirror $suite main"
  echo "deb $mirror $suite-updates main"
  [ -z "$security" ] || echo "deb ${security%/} $suite-security main"
} >"$root/etc/apt/sources.list"
# Site CAs: the certificates this machine adds to its trust store (Debian keeps them in
# /usr/local/share/ca-certificates, e.g. a TLS-inspecting proxy's), so that apt, pip and git
# in the image trust what the host trusts. None on a machine that adds none.
if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
  cp /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/"
  chroot "$root" update-ca-certificates >/dev/null
  say "added this machine's CA certificates: $(cd /usr/local/share/ca-certificates && echo *.crt)"
fi
# Slim like the python:*-slim images: no manuals or translations, now or on later installs.
cat >"$root/etc/dpkg/dpkg.cfg.d/slipway-slim" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
EOF
find "$root/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
find "$root/usr/share/doc" -mindepth 1 -type d -empty -delete
rm -rf "$root"/usr/share/{man,info}/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb \
  "$root"/var/lib/apt/lists/* "$root"/var/log/*.log "$root"/var/log/apt/* "$root"/tmp/* "$root"/dev/*
find "$root/usr/share/locale" -mindepth 1 -maxdepth 1 -not -name locale.alias -exec rm -rf {} +

tar --numeric-owner -C "$root" -c . | docker import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV LANG=C.UTF-8' \
  --change 'CMD ["bash"]' - "$content_tag" >/dev/null
docker tag "$content_tag" "$image"
size=$(docker image inspect --format '{{.Size}}' "$content_tag")
say "built $content_tag ($(( size / 1000000 )) MB) in $(( $(date +%s) - started )) s and tagged it $image"
