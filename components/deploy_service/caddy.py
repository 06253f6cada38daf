"""The TLS reverse proxy's configuration: a Caddyfile rendered from plain values.

Caddy obtains and renews certificates on its own (automatic HTTPS) for the site address,
which is the host of `slipway:webhook.url`; with `slipway:service.tls: internal` it signs
them with its own local CA instead (a machine with no public DNS name, e.g. a trial on
`*.localhost`). Pure: no I/O, so tests can read the result.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

# A DNS name Caddy can get a public certificate for: labels of letters, digits and `-`.
_HOSTNAME = re.compile(
    r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]([a-z0-9-]{0,61}[a-z0-9])?$"
)
_EMAIL = re.compile(r"^[^\s@{}#\"]+@[^\s@{}#\"]+\.[^\s@{}#\"]+$")
# Prometheus metrics are for the host's own network: the proxy does not publish them.
PRIVATE_PATHS = ("/metrics",)
# The proxy's bounds on a client (docs/webhook.md, "Limits"); the service has its own.
PROXY_TIMEOUTS = {"read_header": "10s", "read_body": "30s", "idle": "2m"}


class ProxyConfigError(ValueError):
    """A value the proxy configuration cannot use; the message names the fix."""


@dataclass(frozen=True)
class CaddySite:
    """One HTTPS site in front of the webhook service."""

    host: str  # the public DNS name, e.g. deploy.example.com
    upstream: str  # the service as the proxy reaches it, e.g. 172.30.77.1:8000
    acme_email: str | None = None  # account for Let's Encrypt expiry notices
    max_body: str = "2MB"  # above the service's own limit, so the service answers 413
    tls: str = "auto"  # TLS_MODES: "auto" (ACME) or "internal" (Caddy's local CA)


# slipway:service.tls: how the proxy gets its certificate.
TLS_MODES = ("auto", "internal")


def is_site_name(host: str) -> bool:
    """A DNS name, or `localhost` (a trial on one machine; Caddy signs it with its own CA)."""
    return host == "localhost" or bool(_HOSTNAME.match(host))


def public_host(url: str) -> str:
    """The DNS name of the service's public https:// URL (`slipway:webhook.url`)."""
    parts = urlsplit(url)
    if parts.scheme != "https":
        raise ProxyConfigError(
            f"slipway:webhook.url {url!r} must start with https:// "
            "(the proxy serves it with a certificate)"
        )
    host = (parts.hostname or "").lower()
    if parts.port not in (None, 443):
        raise ProxyConfigError(
            f"slipway:webhook.url {url!r} uses port {parts.port}: the proxy listens on 443 "
            "(certificates are issued through ports 80 and 443); drop the port from the URL"
        )
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        raise ProxyConfigError(
            f"slipway:webhook.url {url!r} uses an IP address: point a DNS name "
            "(e.g. deploy.example.com) at the host and use it in the URL, so that a public "
            "certificate can be issued"
        )
    if not is_site_name(host):
        raise ProxyConfigError(
            f"slipway:webhook.url {url!r}: {host!r} is not a DNS name such as deploy.example.com"
        )
    return host


def render_caddyfile(site: CaddySite) -> str:
    """The Caddyfile: automatic HTTPS for `site.host`, proxied to `site.upstream`."""
    if not is_site_name(site.host):
        raise ProxyConfigError(f"{site.host!r} is not a DNS name such as deploy.example.com")
    if not re.fullmatch(r"[a-z0-9.-]+:\d{1,5}", site.upstream):
        raise ProxyConfigError(f"upstream {site.upstream!r} must look like name:port")
    if site.acme_email is not None and not _EMAIL.match(site.acme_email):
        raise ProxyConfigError(
            f"slipway:service.acmeEmail {site.acme_email!r} is not an e-mail address"
        )
    if site.tls not in TLS_MODES:
        raise ProxyConfigError(
            f"slipway:service.tls {site.tls!r} is not one of {', '.join(TLS_MODES)}: `auto` "
            "gets a public certificate, `internal` signs one with the proxy's own CA"
        )
    lines = ["# Rendered by Slipway (components/deploy_service/caddy.py); edit its inputs."]
    lines += [
        "{",
        *([f"\temail {site.acme_email}"] if site.acme_email else []),
        # A client gets this long to send its request (slow ones are cut off), and an idle
        # connection is closed after `idle`. No write timeout: the live log streams.
        "\tservers {",
        "\t\ttimeouts {",
        f"\t\t\tread_header {PROXY_TIMEOUTS['read_header']}",
        f"\t\t\tread_body {PROXY_TIMEOUTS['read_body']}",
        f"\t\t\tidle {PROXY_TIMEOUTS['idle']}",
        "\t\t}",
        "\t}",
        "}",
        "",
    ]
    lines += [
        f"{site.host} {{",
        *(["\ttls internal"] if site.tls == "internal" else []),
        "\tencode zstd gzip",
        "\trequest_body {",
        f"\t\tmax_size {site.max_body}",
        "\t}",
        f"\t@private path {' '.join(PRIVATE_PATHS)}",
        "\trespond @private 404",
        # Caddy replaces X-Forwarded-For with the real client address (it trusts no proxy
        # in front of it), so the service can rate-limit by client behind the proxy.
        f"\treverse_proxy {site.upstream}",
        "\tlog",
        "}",
    ]
    return "\n".join(lines) + "\n"
