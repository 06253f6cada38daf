"""Container health probe: exit 0 when the webhook service answers GET /healthz with 200.

Standard library only, so it works in the image (no curl) and under systemd alike.
Reads SLIPWAY_HOST and SLIPWAY_PORT like the service does: it probes the address the
service listens on (127.0.0.1 when that is every address).
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request


def main() -> int:
    port = os.environ.get("SLIPWAY_PORT", "8000")
    host = os.environ.get("SLIPWAY_HOST", "127.0.0.1")
    if host in ("", "0.0.0.0", "::"):
        host = "127.0.0.1"
    url = f"http://{f'[{host}]' if ':' in host else host}:{port}/healthz"
    try:
        with urllib.request.urlopen(url, timeout=4) as response:
            healthy = response.status == 200
    except (urllib.error.URLError, OSError) as error:
        print(f"unhealthy: {url}: {error}", file=sys.stderr)
        return 1
    if not healthy:
        print(f"unhealthy: {url} answered {response.status}", file=sys.stderr)
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main())
