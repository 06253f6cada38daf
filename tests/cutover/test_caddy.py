"""The proxy's config (pure) and the cutover's pure helpers."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from webhook.cutover.caddy import (
    ROUTES_DIR,
    Release,
    RouteSpec,
    point_script,
    prune_script,
    read_release,
    release_files,
    render,
    slots_for,
    write_release_script,
)
from webhook.cutover.steps import Failures, RoutingOutput, gate_targets, through
from webhook.health import HealthTarget

ROUTES = (RouteSpec("web", 8080), RouteSpec("api", 9000, "/api/", "example.com"))
R1 = Release("d1", {"web": ["p-web-d1-1"], "api": ["p-api-d1-1", "p-api-d1-2"]})
R2 = Release("d2", {"web": ["p-web-d2-1"], "api": ["p-api-d2-1"]})


def servers(config: dict) -> dict:
    return config["apps"]["http"]["servers"]


def dials(route: dict) -> list[str]:
    return [u["dial"] for u in route["handle"][0]["upstreams"]]


def test_public_reads_the_live_link_private_the_candidate_longest_path_first() -> None:
    config = render(ROUTES, {"web": 1, "api": 2}, public=True, grace=5)
    public, private = servers(config)["public"], servers(config)["private"]
    assert public["listen"] == [":80"] and private["listen"] == [":81"]
    api, web, fallback = public["routes"]
    assert api["match"] == [{"path": ["/api", "/api/*"], "host": ["example.com"]}]
    assert dials(api) == ["{file./srv/slipway/live/api.0}", "{file./srv/slipway/live/api.1}"]
    assert "match" not in web and dials(web) == ["{file./srv/slipway/live/web.0}"]
    assert fallback["handle"][0]["status_code"] == 503
    # The private route ignores hosts: the health probes address it by loopback port.
    assert private["routes"][0]["match"] == [{"path": ["/api", "/api/*"]}]
    assert dials(private["routes"][1]) == ["{file./srv/slipway/candidate/web.0}"]
    assert config["apps"]["http"]["grace_period"] == "5s"


def test_the_config_names_no_release_so_a_switch_needs_no_reload() -> None:
    before = render(ROUTES, slots_for(R1, R2), public=True, grace=5)
    assert "d1" not in json.dumps(before) and "d2" not in json.dumps(before)
    assert render(ROUTES, slots_for(R2, R1), public=True, grace=5) == before


def test_slots_cover_the_bigger_release_and_a_smaller_one_fills_them_round_robin() -> None:
    slots = slots_for(R1, R2)
    assert slots == {"web": 1, "api": 2}
    files = release_files(R2, slots, {"web": 8080, "api": 9000})
    assert files["api.0"] == files["api.1"] == "p-api-d2-1:9000"
    assert files["web.0"] == "p-web-d2-1:8080" and files["release"] == "d2"
    assert read_release(files["release.json"]) == R2
    assert read_release("") is None


def test_before_the_first_switch_the_public_server_answers_503() -> None:
    config = render(ROUTES, {"web": 1, "api": 2}, public=False, grace=1)
    assert [r["handle"][0]["handler"] for r in servers(config)["public"]["routes"]] == [
        "static_response"
    ]


def test_proxy_scripts_switch_by_rename_and_quote_what_they_write(tmp_path: Path) -> None:
    """The scripts run in busybox sh in the proxy; here in the host's sh, under tmp_path."""
    release = Release("d2", {"web": ["10.0.0.2"]})
    root = str(tmp_path)

    def run(script: str) -> None:
        subprocess.run(["sh", "-c", script.replace(ROUTES_DIR, root)], check=True)

    run(write_release_script(release, {"release": "d2", "odd": "it's $HOME"}))
    run(write_release_script(Release("d1", {}), {"release": "d1"}))
    assert (tmp_path / "releases/d2/odd").read_text() == "it's $HOME"
    run(point_script("live", "d1"))
    run(point_script("live", "d2"))
    assert os.readlink(tmp_path / "live") == "releases/d2"
    assert (tmp_path / "live/release").read_text() == "d2"
    assert "mv -T -f" in point_script("live", "d2")  # a rename, never unlink + create
    run(prune_script(["d2"]))
    assert sorted(p.name for p in (tmp_path / "releases").iterdir()) == ["d2"]


def test_gate_targets_send_route_health_and_proxied_urls_to_the_private_route() -> None:
    routing = RoutingOutput.parse(
        {
            "project": "p",
            "listen": "127.0.0.1:8080",
            "release": "d2",
            "services": [{"service": "web", "containers": ["c"], "network": "p_default",
                          "port": 80, "path": "/", "host": None, "health": "/h"}],
        }
    )  # fmt: skip
    targets = [
        HealthTarget("http://127.0.0.1:8080/ready?x=1", 204, 3),
        HealthTarget("http://127.0.0.1:9999/other"),  # not through the proxy: not gated
    ]
    assert gate_targets(routing, targets, "http://127.0.0.1:5555") == [
        HealthTarget("http://127.0.0.1:5555/h"),
        HealthTarget("http://127.0.0.1:5555/ready?x=1", 204, 3),
    ]
    assert through("https://a.example/x", "http://127.0.0.1:1") == "http://127.0.0.1:1/x"


def test_failures_count_only_rounds_in_a_row() -> None:
    failures = Failures(limit=3)
    assert [failures.record(f) for f in (True, True, False, True, True, True)] == [
        False, False, False, False, False, True,
    ]  # fmt: skip
