#!/usr/bin/env bash
# Debian's chromium and chromium-driver for the browser tests (tests/webhook/http/ui/test_browser.py,
# marker `browser`), installed with apt when missing. Idempotent: nothing happens when
# /usr/bin/chromium is there. Installs only as root on a Debian-like system; anywhere else
# it says what to install and exits 0, so the browser tests skip with that reason (or fail
# under SLIPWAY_REQUIRE_REAL=1). No browser is ever downloaded from elsewhere.
set -euo pipefail
shopt -s inherit_errexit  # a failure inside $(...) stops the script too, as it would outside

chromium=${SLIPWAY_CHROMIUM:-/usr/bin/chromium}   # the path the browser tests use
if [ -x "$chromium" ]; then
  exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "ensure-chromium: $chromium is missing; the browser tests need Debian's" \
    "chromium: sudo apt-get install -y chromium chromium-driver" >&2
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt=(apt-get -o DPkg::Lock::Timeout=300 -qq)   # wait while another apt holds the lock
for attempt in 1 2 3; do
  if "${apt[@]}" update && "${apt[@]}" install -y chromium chromium-driver; then
    echo "ensure-chromium: installed $(/usr/bin/chromium --version 2>/dev/null || echo chromium)"
    exit 0
  fi
  echo "ensure-chromium: apt-get failed (try $attempt/3), retrying in 20 s" >&2
  sleep 20
done
echo "ensure-chromium: could not install chromium with apt-get" >&2
exit 1
