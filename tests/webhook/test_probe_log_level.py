"""Routine health probes stay out of the service log at `info` (issue 34).

httpx logs every request at info, so each probe of a health wait or watch window was a
line of the service log (416 of 467 lines in a run). Its request lines now go at debug
(`SLIPWAY_LOG_LEVEL=debug` shows them); state changes and failures stay at info.
"""

from __future__ import annotations

import http.server
import json
import logging
import threading
from collections.abc import Iterator

import pytest

from webhook.health import HealthPolicy, HealthTarget, check_health
from webhook.logs import configure_logging


@pytest.fixture
def url() -> Iterator[str]:
    class Ok(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Ok)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/healthz"
    server.shutdown()
    server.server_close()


def _logged(level: str, url: str, capfd) -> list[dict]:
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        configure_logging(level)
        policy = HealthPolicy(interval_seconds=0.01, consecutive_passes=3, deadline_seconds=5)
        assert check_health([HealthTarget(url)], policy, lambda _: None).healthy
        logging.getLogger("slipway.orchestrator").info("deployment 1 -> succeeded")
        logging.getLogger("slipway.orchestrator").warning("a failure")
    finally:
        root.handlers[:], _ = saved[0], root.setLevel(saved[1])
    return [json.loads(line) for line in capfd.readouterr().err.splitlines() if line]


def test_probes_are_not_in_the_info_log(url: str, capfd) -> None:
    lines = _logged("info", url, capfd)
    assert not [line for line in lines if "HTTP Request" in line["message"]], lines
    assert [line["message"] for line in lines] == ["deployment 1 -> succeeded", "a failure"]


def test_probes_are_in_the_debug_log(url: str, capfd) -> None:
    lines = _logged("debug", url, capfd)
    probes = [line for line in lines if "HTTP Request" in line["message"]]
    assert len(probes) == 3 and {line["level"] for line in probes} == {"DEBUG"}, lines
