"""Structured JSON logs on stderr (python-json-logger). Never pass secrets or payloads here."""

from __future__ import annotations

import logging
import sys

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.orjson import OrjsonFormatter


def json_handler() -> logging.Handler:
    """A stderr handler writing one JSON object per line: time, level, logger, message and
    any `extra=` fields (delivery_id, github_event, outcome, deployment_id)."""
    handler = logging.StreamHandler(sys.stderr)
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
