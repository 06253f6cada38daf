"""The program's own wait for a healthy container (components/compose_stack/health_wait.py),
against a fake engine on a unix socket; the real engine's side is test_health_wait_real.py."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from components.compose_stack import health_wait
from components.compose_stack.health_wait import ContainerNotHealthyError, verdict, wait_healthy


def test_verdicts() -> None:
    assert verdict({"Running": True, "Health": {"Status": "healthy"}}) == "healthy"
    assert verdict({"Running": True, "Health": {"Status": "starting"}}) is None
    assert "unhealthy" in verdict({"Running": True, "Health": {"Status": "unhealthy"}})
    assert "exited (exit code 3)" in verdict(
        {"Running": False, "Status": "exited", "ExitCode": 3, "Health": {"Status": "starting"}}
    )
    assert "no healthcheck" in verdict({"Running": True, "Status": "running"})
    assert "no longer exists" in verdict(None)


def test_the_socket_comes_from_the_host(monkeypatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", "unix:///run/x.sock")
    assert health_wait.socket_path(None) == "/run/x.sock"
    assert health_wait.socket_path("ssh://me@there") is None
    monkeypatch.delenv("DOCKER_HOST")
    assert health_wait.socket_path(None) == "/var/run/docker.sock"


def serve(path: Path, states: list[dict | None]):
    """A fake engine answering `GET /containers/<name>/json` with the next of `states`."""
    asked: list[str] = []

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        request = (await reader.readuntil(b"\r\n\r\n")).decode()
        asked.append(request.split()[1])
        state = states.pop(0) if len(states) > 1 else states[0]
        if state is None:
            writer.write(b"HTTP/1.0 404 Not Found\r\n\r\n{}")
        else:
            body = json.dumps({"State": state}).encode()
            writer.write(b"HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n" + body)
        await writer.drain()
        writer.close()

    return asyncio.start_unix_server(answer, path=str(path)), asked


def run_wait(tmp_path: Path, states: list[dict | None], timeout: float = 5.0) -> list[str]:
    sock = tmp_path / "engine.sock"

    async def main() -> list[str]:
        starting, asked = serve(sock, states)
        async with await starting:
            await wait_healthy("db", "p-db-1", timeout, f"unix://{sock}")
        return asked

    loop = asyncio.new_event_loop()  # not asyncio.run: it would unset the thread's loop,
    try:  # which the Pulumi mocks of later tests in this process use
        return loop.run_until_complete(main())
    finally:
        loop.close()


STARTING = {"Running": True, "Status": "running", "Health": {"Status": "starting"}}


def test_waits_until_healthy(tmp_path) -> None:
    healthy = {"Running": True, "Status": "running", "Health": {"Status": "healthy"}}
    asked = run_wait(tmp_path, [STARTING, STARTING, healthy])
    assert asked == ["/containers/p-db-1/json"] * 3


def test_unhealthy_fails_at_once_naming_the_container(tmp_path) -> None:
    sick = {"Running": True, "Status": "running", "Health": {"Status": "unhealthy"}}
    with pytest.raises(ContainerNotHealthyError, match=r"p-db-1 did not become healthy.*unhealthy"):
        run_wait(tmp_path, [STARTING, sick], timeout=60)


def test_gives_up_at_the_deadline(tmp_path) -> None:
    with pytest.raises(ContainerNotHealthyError, match=r"not healthy after 0\.3 s"):
        run_wait(tmp_path, [STARTING], timeout=0.3)


def test_a_removed_container_fails(tmp_path) -> None:
    with pytest.raises(ContainerNotHealthyError, match="no longer exists"):
        run_wait(tmp_path, [None])
