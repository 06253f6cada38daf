"""Every route the service answers, with its method, for the tests that try them all
(body limits, memory under large bodies). A route added to webhook/http/ belongs here."""

from __future__ import annotations

HOOK = ("POST", "/hooks/github")  # its own, larger body limit
ROUTES = [
    HOOK,
    ("POST", "/ui/login"),
    ("POST", "/ui/logout"),
    ("GET", "/ui/login"),
    ("GET", "/ui"),
    ("GET", "/ui/deployments/1"),
    ("GET", "/ui/deployments/1/events"),
    ("POST", "/deployments"),
    ("GET", "/deployments"),
    ("GET", "/deployments/1"),
    ("GET", "/deployments/1/log"),
    ("POST", "/deployments/1/rollback"),
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("GET", "/metrics"),
]
