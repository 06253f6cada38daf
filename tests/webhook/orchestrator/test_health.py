"""Health checks against real loopback HTTP servers, and the parsing of `healthChecks`."""

from __future__ import annotations

import http.server
import socket
import threading
from collections.abc import Iterator

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from webhook.health import (
    HealthConfigError,
    HealthPolicy,
    HealthTarget,
    HealthTracker,
    ProbeResult,
    check_health,
    parse_health_checks,
    probe,
)

FAST = HealthPolicy(interval_seconds=0.01, consecutive_passes=3, deadline_seconds=5)


class ScriptedServer:
    """A loopback server answering `/health` with the statuses in `script`, then the last."""

    def __init__(self, script: list[int]) -> None:
        self.script = list(script)
        self.hits = 0
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                status = outer.script[min(outer.hits, len(outer.script) - 1)]
                outer.hits += 1
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/health"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def serve() -> Iterator:
    servers: list[ScriptedServer] = []

    def make(script: list[int]) -> ScriptedServer:
        servers.append(ScriptedServer(script))
        return servers[-1]

    yield make
    for server in servers:
        server.close()


def test_healthy_after_consecutive_passes(serve):
    server = serve([503, 200, 200, 200])
    lines: list[str] = []
    report = check_health([HealthTarget(server.url)], FAST, lines.append)
    assert report.healthy
    assert report.rounds == 4
    assert lines[0].startswith(f"health: FAIL {server.url} HTTP 503")
    assert lines[-1].endswith("[3/3]")


def test_a_failure_resets_the_streak(serve):
    server = serve([200, 200, 500, 200, 200, 200])
    report = check_health([HealthTarget(server.url)], FAST, lambda _: None)
    assert report.healthy and report.rounds == 6


def test_unhealthy_when_the_deadline_passes(serve):
    server = serve([500])
    policy = HealthPolicy(interval_seconds=0.01, consecutive_passes=2, deadline_seconds=0.1)
    report = check_health([HealthTarget(server.url)], policy, lambda _: None)
    assert not report.healthy
    assert server.url in report.summary and "deadline" in report.summary


def test_every_target_must_pass_and_unreachable_is_a_failure(serve):
    good = serve([200])
    policy = HealthPolicy(interval_seconds=0.01, consecutive_passes=1, deadline_seconds=0.1)
    dead = "http://127.0.0.1:9/health"
    lines: list[str] = []
    report = check_health(
        [HealthTarget(good.url), HealthTarget(dead, 200, 0.5)], policy, lines.append
    )
    assert not report.healthy
    assert dead in report.summary and good.url not in report.summary
    assert any("ConnectError" in line for line in lines)


def test_expected_status_other_than_200(serve):
    server = serve([204])
    policy = HealthPolicy(interval_seconds=0.01, consecutive_passes=1, deadline_seconds=1)
    assert check_health([HealthTarget(server.url, status=204)], policy, lambda _: None).healthy


def test_shutdown_stops_the_loop(serve):
    server = serve([500])
    stop = threading.Event()
    stop.set()
    policy = HealthPolicy(interval_seconds=10, consecutive_passes=1, deadline_seconds=60)
    report = check_health([HealthTarget(server.url)], policy, lambda _: None, stop=stop)
    assert not report.healthy and "shutdown" in report.summary


def test_parse_health_checks_reads_the_stack_output():
    parsed = parse_health_checks(
        [{"url": "https://app.example.com/healthz", "status": 204, "timeoutSeconds": 3}]
    )
    assert parsed == [HealthTarget("https://app.example.com/healthz", 204, 3.0)]
    assert parse_health_checks(None) == []


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("http://x", "must be a list"),
        ([{"url": "ftp://x"}], r"healthChecks\[0\].url must be an http"),
        ([{"url": "http://x", "status": 42}], "status must be an HTTP status"),
        ([{"url": "http://x", "timeoutSeconds": 0}], "timeoutSeconds must be a positive"),
        ([{"url": "http://x", "timeout": 3}], "unknown field"),
    ],
)
def test_parse_health_checks_rejects_bad_entries(raw, message):
    with pytest.raises(HealthConfigError, match=message):
        parse_health_checks(raw)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.booleans(), min_size=2, max_size=2), max_size=30), st.integers(1, 4))
def test_tracker_is_healthy_exactly_when_every_target_ends_on_a_long_enough_run(rounds, needed):
    targets = [HealthTarget("http://a"), HealthTarget("http://b")]
    tracker = HealthTracker(targets, needed)
    for passes in rounds:
        tracker.record([ProbeResult(t, p, "") for t, p in zip(targets, passes, strict=True)])

    def trailing_run(index: int) -> int:
        run = 0
        for passes in reversed(rounds):
            if not passes[index]:
                break
            run += 1
        return run

    assert tracker.healthy == all(trailing_run(i) >= needed for i in range(2))


class StallingServer:
    """Accepts connections and then answers nothing (`trickle=False`), or sends the headers
    and then one body byte every 0.1 s without end (`trickle=True`)."""

    def __init__(self, trickle: bool) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}/health"
        self.stop = threading.Event()
        self.trickle = trickle
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        self.listener.settimeout(0.1)
        while not self.stop.is_set():
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:  # closed by close()
                return
            threading.Thread(target=self._stall, args=(conn,), daemon=True).start()

    def _stall(self, conn: socket.socket) -> None:
        with conn:
            if self.trickle:
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n")
            while not self.stop.wait(0.1):
                if self.trickle:
                    try:
                        conn.sendall(b".")
                    except OSError:  # the probe gave up and closed the connection
                        return

    def close(self) -> None:
        self.stop.set()
        self.listener.close()


@pytest.mark.parametrize("trickle", [False, True], ids=["silent", "trickling"])
def test_a_probe_that_gets_no_full_answer_fails_within_its_timeout(trickle: bool) -> None:
    server = StallingServer(trickle)
    target = HealthTarget(server.url, 200, timeout_seconds=0.5)
    results: list[ProbeResult] = []
    try:
        with httpx.Client() as client:
            worker = threading.Thread(target=lambda: results.append(probe(client, target)))
            worker.start()
            worker.join(timeout=10)  # a bound on the test: the probe's own limit is 0.5 s
            assert not worker.is_alive(), "the probe hung past its timeout"
    finally:
        server.close()
    (result,) = results
    assert not result.passed
    assert result.detail.startswith("timed out")


def test_health_lines_never_count_past_the_target(serve):
    """A target that already passed its streak keeps passing while another still fails: its
    lines stay at [3/3] instead of counting on to [10/3] (issue 34)."""
    steady = serve([200])
    late = serve([503] * 7 + [200])
    lines: list[str] = []
    report = check_health([HealthTarget(steady.url), HealthTarget(late.url)], FAST, lines.append)
    assert report.healthy, lines
    counts = [line.rsplit("[", 1)[1].rstrip("]") for line in lines if line.endswith("]")]
    assert counts and all(int(c.split("/")[0]) <= int(c.split("/")[1]) for c in counts), lines
    assert f"health: pass {steady.url} HTTP 200 (want 200) [3/3]" in lines
