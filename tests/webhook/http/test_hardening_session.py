"""Finding 10 of issue 32: logging out ends the session on the server, not only in the browser."""

from __future__ import annotations

import re

import httpx

from tests.support.service import TOKEN, Service, ServiceFactory
from webhook.http import auth


def _sign_in(service: Service) -> tuple[httpx.Client, str, str]:
    """A signed-in client, its cookie value and its page's CSRF token."""
    client = httpx.Client(base_url=service.url, timeout=30)
    assert client.post("/ui/login", data={"token": TOKEN, "next": "/ui"}).status_code == 303
    page = client.get("/ui")
    assert page.status_code == 200
    csrf = re.search(r'<meta name="slipway-csrf" content="([0-9a-f]+)">', page.text)
    assert csrf is not None
    return client, client.cookies[auth.SESSION_COOKIE], csrf[1]


def test_a_cookie_kept_after_logout_is_refused(service: Service) -> None:
    client, cookie, csrf = _sign_in(service)
    assert client.post("/ui/logout", data={"csrf": csrf}).status_code == 303
    stolen = httpx.Client(base_url=service.url, timeout=30)
    stolen.cookies.set(auth.SESSION_COOKIE, cookie)
    assert stolen.get("/ui").status_code == 303  # to the login form
    api = stolen.get("/deployments", headers={auth.CSRF_HEADER: csrf})
    assert api.status_code == 401, api.text
    again, _, _ = _sign_in(service)  # a new login works at once
    assert again.get("/ui").status_code == 200


def test_logout_is_kept_in_the_database(start_service: ServiceFactory) -> None:
    """The not-before time is in the store: a restarted service refuses the cookie too."""
    service = start_service()
    client, _, csrf = _sign_in(service)
    assert service.store.session_not_before() == 0
    assert client.post("/ui/logout", data={"csrf": csrf}).status_code == 303
    assert service.store.session_not_before() > 0
