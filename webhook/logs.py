"""Structured JSON logs on stderr (python-json-logger). Never pass secrets or payloads here."""

from __future__ import annotations

import logging
import sys
import threading
import time
from typing import TextIO

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.orjson import OrjsonFormatter

FLUSH_SECONDS = 0.1
"""The longest an info or debug line waits in the buffer before it is written."""
MAX_BUFFERED = 256
"""Lines buffered at most; one more writes them all at once."""


class BatchedStreamHandler(logging.StreamHandler):
    """A StreamHandler that writes its lines in batches: a warning or worse is written at
    once (after the lines before it); info and debug lines within FLUSH_SECONDS, by a
    flusher thread, or as soon as MAX_BUFFERED wait. One write per batch instead of one
    write and flush per line: the hook logs a line for every delivery it accepts.
    `flush()` (also at exit, by logging.shutdown) writes what is buffered."""

    def __init__(self, stream: TextIO | None = None) -> None:
        super().__init__(stream)
        self._lines: list[str] = []
        self._due = threading.Event()
        self._flusher: threading.Thread | None = None

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record) + self.terminator
        except Exception:
            self.handleError(record)
            return
        self._lines.append(line)  # under self.lock: Handler.handle holds it around emit
        if record.levelno >= logging.WARNING or len(self._lines) >= MAX_BUFFERED:
            self._write()
        elif len(self._lines) == 1:
            if self._flusher is None:
                self._flusher = threading.Thread(
                    target=self._flush_later, name="slipway-log-flusher", daemon=True
                )
                self._flusher.start()
            self._due.set()

    def flush(self) -> None:
        with self.lock:  # type: ignore[union-attr]  # always set by Handler.createLock
            self._write()

    def _write(self) -> None:
        if self._lines:
            text, self._lines = "".join(self._lines), []
            try:
                self.stream.write(text)
                self.stream.flush()
            except Exception:
                self.handleError(logging.makeLogRecord({"msg": "log write failed"}))

    def _flush_later(self) -> None:
        while True:
            self._due.wait()
            time.sleep(FLUSH_SECONDS)
            self._due.clear()
            self.flush()


def json_handler() -> logging.Handler:
    """A stderr handler writing one JSON object per line: time, level, logger, message and
    any `extra=` fields (delivery_id, github_event, outcome, deployment_id); in batches
    (BatchedStreamHandler)."""
    handler = BatchedStreamHandler(sys.stderr)
    handler.setFormatter(
        OrjsonFormatter(
            "%(asctime)s %(levelname)s %(name)s %(message)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            reserved_attrs=[*RESERVED_ATTRS, "color_message"],
        )
    )
    return handler


class RequestsAtDebug(logging.Filter):
    """httpx logs every request at info: each health probe was a line of the service log
    (416 of 467 in one run). Its info records become debug records; its warnings stay."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno != logging.INFO:
            return True
        record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return logging.getLogger().isEnabledFor(logging.DEBUG)


def configure_logging(level: str = "info") -> None:
    """Send every logger (uvicorn's too) to JSON lines on stderr; HTTP requests the service
    makes (health probes, GitHub calls) only at debug."""
    root = logging.getLogger()
    root.handlers[:] = [json_handler()]
    root.setLevel(level.upper())
    httpx_logger = logging.getLogger("httpx")
    if not any(isinstance(f, RequestsAtDebug) for f in httpx_logger.filters):
        httpx_logger.addFilter(RequestsAtDebug())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers[:] = []
        logger.propagate = True
