"""The proxy's config (pure) and the cutover's pure helpers."""

from __future__ import annotations

import json

from webhook.cutover.caddy import (
    Release,
    RouteSpec,
    read_release,
    release_files,
    render,
    slots_for,
)
from webhook.cutover.steps import Failures, RoutingOutput, gate_targets, through, watch_targets
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


def test_a_health_url_that_is_also_a_route_health_path_is_probed_once_per_round() -> None:
    routing = RoutingOutput(
        "p", "127.0.0.1:8080", Release("d2", {}), (), (), ("/healthz", "/ready")
    )
    targets = [
        HealthTarget("http://127.0.0.1:8080/healthz"),  # the route's own path again
        HealthTarget("http://127.0.0.1:8080/ready", 204),  # another status: its own check
        HealthTarget("http://127.0.0.1:9999/other"),
    ]
    assert gate_targets(routing, targets, "http://127.0.0.1:5555") == [
        HealthTarget("http://127.0.0.1:5555/healthz"),
        HealthTarget("http://127.0.0.1:5555/ready"),
        HealthTarget("http://127.0.0.1:5555/ready", 204),
    ]
    assert watch_targets(routing, targets) == [
        HealthTarget("http://127.0.0.1:8080/healthz"),
        HealthTarget("http://127.0.0.1:8080/ready"),
        HealthTarget("http://127.0.0.1:8080/ready", 204),
        HealthTarget("http://127.0.0.1:9999/other"),
    ]


def test_failures_count_only_rounds_in_a_row() -> None:
    failures = Failures(limit=3)
    assert [failures.record(f) for f in (True, True, False, True, True, True)] == [
        False, False, False, False, False, True,
    ]  # fmt: skip


def test_every_route_retries_a_failed_dial_on_the_other_slots() -> None:
    config = render(ROUTES, {"web": 1, "api": 2}, public=True, grace=5)
    for server in servers(config).values():
        for route in server["routes"][:-1]:  # the last one answers 503: no release
            proxy = route["handle"][0]
            assert proxy["load_balancing"]["try_duration"] == "8s"
            assert proxy["health_checks"]["passive"]["max_fails"] == 1
            assert proxy["transport"]["dial_timeout"] == "2s"
