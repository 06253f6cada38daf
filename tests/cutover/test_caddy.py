"""The proxy's config (pure) and the cutover's pure helpers."""

from __future__ import annotations

from webhook.cutover.caddy import Release, RouteSpec, live_release, render
from webhook.cutover.steps import Failures, RoutingOutput, gate_targets, through
from webhook.health import HealthTarget

ROUTES = (RouteSpec("web", 8080), RouteSpec("api", 9000, "/api/", "example.com"))
R1 = Release("d1", {"web": ["p-web-d1-1"], "api": ["p-api-d1-1", "p-api-d1-2"]})
R2 = Release("d2", {"web": ["p-web-d2-1"], "api": ["p-api-d2-1"]})


def servers(config: dict) -> dict:
    return config["apps"]["http"]["servers"]


def test_live_release_on_public_candidate_on_private_longest_path_first() -> None:
    config = render(ROUTES, R1, R2, grace=5)
    public, private = servers(config)["public"], servers(config)["private"]
    assert public["listen"] == [":80"] and private["listen"] == [":81"]
    api, web, fallback = public["routes"]
    assert api["match"] == [{"path": ["/api", "/api/*"], "host": ["example.com"]}]
    dials = [u["dial"] for u in api["handle"][0]["upstreams"]]
    assert dials == ["p-api-d1-1:9000", "p-api-d1-2:9000"]
    assert "match" not in web and web["handle"][0]["upstreams"] == [{"dial": "p-web-d1-1:8080"}]
    assert fallback["handle"][0]["status_code"] == 503
    # The private route ignores hosts: the health probes address it by loopback port.
    assert private["routes"][0]["match"] == [{"path": ["/api", "/api/*"]}]
    assert private["routes"][1]["handle"][0]["upstreams"] == [{"dial": "p-web-d2-1:8080"}]
    assert config["apps"]["http"]["grace_period"] == "5s"


def test_the_live_release_is_read_back_from_the_loaded_config() -> None:
    assert live_release(render(ROUTES, R1, R2, grace=5)) == R1
    assert live_release(render(ROUTES, None, R2, grace=5)) is None
    assert live_release(None) is None


def test_a_release_without_routes_answers_503_everywhere() -> None:
    for server in servers(render(ROUTES, None, None, grace=1)).values():
        assert [r["handle"][0]["handler"] for r in server["routes"]] == ["static_response"]


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
