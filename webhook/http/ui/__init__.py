"""The operators' deployments page: server-rendered HTML under `/ui`, no external assets.

`install(app)` adds the routes; they need the API token or the login cookie made from it
(webhook/http/auth.py, which the API shares).
"""

from __future__ import annotations

from fastapi import FastAPI

from webhook.http.ui.live import LiveStreams
from webhook.http.ui.routes import ui


def install(app: FastAPI) -> None:
    """Add the page's routes and its live-log stream counter to `app`."""
    app.state.ui_streams = LiveStreams()
    app.include_router(ui)


__all__ = ["install"]
