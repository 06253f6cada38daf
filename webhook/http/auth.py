"""Who may call the API and see the deployments page: pure checks, no I/O.

The page takes the API's bearer token, or a login cookie derived from it: the cookie holds
an expiry and an HMAC-SHA256 of it keyed by the token, so it is worthless without the
token and dies when the token is rotated. Logging out voids every cookie made before it
(the store keeps that time, so a restart does not bring them back). Requests that change
something with the cookie (the rollback button) must also send `X-Slipway-CSRF`, an HMAC of
the cookie that only the page itself carries; the cookie is SameSite=Strict and HttpOnly on
top of that.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping

SESSION_COOKIE = "slipway_session"
CSRF_HEADER = "x-slipway-csrf"
SESSION_SECONDS = 12 * 3600
_EXPIRY = re.compile(r"[0-9]{1,15}")  # ASCII digits only: `str.isdigit` takes "²" and "٣"


def _mac(token: str, message: str) -> str:
    return hmac.new(token.encode(), message.encode(), hashlib.sha256).hexdigest()


def bearer_valid(token: str, authorization: str | None) -> bool:
    """`Authorization: Bearer <token>`, compared in constant time."""
    scheme, _, given = (authorization or "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        given.strip().encode(), token.encode()
    )


def new_session(token: str, now: float) -> str:
    """A login cookie value that is valid for SESSION_SECONDS from `now` (its expiry in
    milliseconds: the time it was made is the expiry less SESSION_SECONDS)."""
    expires = int(now * 1000) + SESSION_SECONDS * 1000
    return f"{expires}.{_mac(token, f'session:{expires}')}"


def session_valid(token: str, value: str | None, now: float, not_before: float = 0.0) -> bool:
    """The cookie was made with this token, after `not_before` (the last logout), and has
    not expired."""
    expires, _, mac = (value or "").partition(".")
    if not _EXPIRY.fullmatch(expires) or int(expires) <= now * 1000:
        return False
    if int(expires) - SESSION_SECONDS * 1000 <= not_before * 1000:
        return False
    return hmac.compare_digest(mac.encode(), _mac(token, f"session:{expires}").encode())


def csrf_token(token: str, session: str) -> str:
    """The value the page sends in X-Slipway-CSRF (or a form field) with this cookie."""
    return _mac(token, f"csrf:{session}")


def csrf_valid(token: str, session: str, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(
        (given or "").encode(), csrf_token(token, session).encode()
    )


def cookie_request_valid(
    token: str,
    cookies: Mapping[str, str],
    headers: Mapping[str, str],
    now: float,
    not_before: float = 0.0,
) -> bool:
    """An API call from the page: a valid login cookie and its CSRF header."""
    session = cookies.get(SESSION_COOKIE)
    return session_valid(token, session, now, not_before) and csrf_valid(
        token, session or "", headers.get(CSRF_HEADER)
    )


def safe_next(target: str | None) -> str:
    """Where to go after login: a path of the page itself, never another site."""
    if (
        target
        and target.startswith("/ui")
        and target.isprintable()
        and "\\" not in target
        and "//" not in target
    ):
        return target
    return "/ui"
