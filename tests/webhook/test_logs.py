"""The service log's batched handler (webhook/logs.py): every line written, in order."""

from __future__ import annotations

import io
import logging
import time

from webhook.logs import MAX_BUFFERED, BatchedStreamHandler


def _logger(stream: io.StringIO) -> tuple[logging.Logger, BatchedStreamHandler]:
    handler = BatchedStreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    logger = logging.getLogger(f"test-batched-{id(stream)}")
    logger.handlers[:] = [handler]
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    return logger, handler


def test_a_warning_writes_the_lines_before_it_and_itself() -> None:
    stream = io.StringIO()
    log, _ = _logger(stream)
    log.info("one")
    log.debug("two")
    log.warning("three")
    assert stream.getvalue() == "INFO one\nDEBUG two\nWARNING three\n"


def test_info_lines_are_written_by_flush_or_soon_after() -> None:
    stream = io.StringIO()
    log, handler = _logger(stream)
    log.info("now")
    handler.flush()
    assert stream.getvalue() == "INFO now\n"
    log.info("later")
    deadline = time.monotonic() + 10
    while "later" not in stream.getvalue() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert stream.getvalue() == "INFO now\nINFO later\n"


def test_a_full_buffer_is_written_at_once() -> None:
    stream = io.StringIO()
    log, handler = _logger(stream)
    handler._flusher = object()  # type: ignore[assignment]  # no flusher: only the bound writes
    for number in range(MAX_BUFFERED):
        log.info("line %d", number)
    assert stream.getvalue().count("\n") == MAX_BUFFERED
