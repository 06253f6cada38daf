"""A response's head and body leave in one write (webhook/http/server.py)."""

from __future__ import annotations

import asyncio

from webhook.http.server import CoalescingTransport


class Recorder:
    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        self.writes.append(data)

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed

    def get_extra_info(self, name: str) -> str:
        return f"info {name}"


async def _head_and_body() -> None:
    inner = Recorder()
    transport = CoalescingTransport(inner, asyncio.get_running_loop())  # type: ignore[arg-type]
    transport.write(b"HEAD")
    assert inner.writes == []
    transport.write(b"BODY")
    transport.write(b"MORE")
    assert inner.writes == [b"HEADBODY", b"MORE"]
    assert transport.get_extra_info("peername") == "info peername"


async def _head_alone() -> None:
    inner = Recorder()
    transport = CoalescingTransport(inner, asyncio.get_running_loop())  # type: ignore[arg-type]
    transport.write(b"HEAD")
    await asyncio.sleep(0)
    assert inner.writes == [b"HEAD"]
    transport.write(b"BODY")
    assert inner.writes == [b"HEAD", b"BODY"]

    closing = Recorder()
    transport = CoalescingTransport(closing, asyncio.get_running_loop())  # type: ignore[arg-type]
    transport.write(b"HEAD")
    transport.close()
    assert closing.writes == [b"HEAD"] and closing.closed


def test_head_and_body_go_in_one_write_later_writes_at_once() -> None:
    asyncio.run(_head_and_body())


def test_a_head_alone_leaves_at_the_next_turn_or_at_close() -> None:
    asyncio.run(_head_alone())
