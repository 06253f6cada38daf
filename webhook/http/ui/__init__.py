"""The operators' deployments page: server-rendered HTML under `/ui`, no external assets.

`install(app)` adds the routes; they need the API token or the login cookie made from it.
"""

from __future__ import annotations

from fastapi import FastAPI


def install(app: FastAPI) -> None:
    """Add the page's routes and its live-log stream counter to `app`."""
    from webhook.http.ui.live import (
        LiveStreams,  # here: webhook.http.api imports webhook.http.ui.auth
    )
    from webhook.http.ui.routes import ui

    app.state.ui_streams = LiveStreams()
    app.include_router(ui)


__all__ = ["install"]
