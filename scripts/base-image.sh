#!/usr/bin/env bash
# Make the local base image `slipway/base:busybox` without any registry.
#
# Nothing can be pulled on our machines, so the demo stack and the tests build FROM this
# image: Debian's busybox-static (sh, httpd with CGI, wget, nc) in an empty root, imported
# with `docker import`. It is tagged by the binary's content too (slipway/base:busybox-<hash>),
# so a second run with the same busybox does nothing. DOCKER_HOST says which engine.
set -euo pipefail
shopt -s inherit_errexit  # a failure inside $(...) stops the script too, as it would outside

say() { printf '%s\n' "base-image: $*" >&2; }
die() { printf '%s\n' "base-image: error: $*" >&2; exit 1; }

busybox=/bin/busybox
is_static() {  # ldd exits 1 for a static binary: read its words, not its status
  local out
  [ -x "$busybox" ] || return 1
  out=$(LC_ALL=C ldd "$busybox" 2>&1 || true)
  [[ $out == *"not a dynamic executable"* ]]
}
if ! is_static; then
  [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null \
    || die "a statically linked busybox is needed. Fix: install Debian's busybox-static package."
  say "installing Debian's busybox-static (one time)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q busybox-static >/dev/null
fi
is_static || die "$busybox is not statically linked (Debian's busybox-static provides one)"

hash=$(sha256sum "$busybox" | cut -c1-12)
content_tag="slipway/base:busybox-$hash"
if docker image inspect "$content_tag" >/dev/null 2>&1; then
  docker tag "$content_tag" slipway/base:busybox
  say "slipway/base:busybox is up to date ($content_tag)"
  exit 0
fi

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,etc,tmp,var/www,root}
chmod 1777 "$root/tmp"
cp "$busybox" "$root/bin/busybox"
# One link per applet that busybox was built with (sh, httpd, wget, nc, sleep, ...).
for applet in $("$busybox" --list); do
  [ "$applet" = busybox ] || ln -sf busybox "$root/bin/$applet"
done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$root/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
tar -C "$root" -c . | docker import \
  --change 'ENV PATH=/bin' --change 'CMD ["sh"]' - "$content_tag" >/dev/null
docker tag "$content_tag" slipway/base:busybox
say "built $content_tag and tagged it slipway/base:busybox"
