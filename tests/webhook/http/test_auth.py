"""The page's sign-in rules, pure: cookie from the token, expiry, CSRF, redirects."""

from __future__ import annotations

from webhook.http import auth

TOKEN = "operator-token-123"
NOW = 1_800_000_000.0


def test_a_session_is_valid_until_it_expires_and_only_for_its_token():
    session = auth.new_session(TOKEN, NOW)
    assert auth.session_valid(TOKEN, session, NOW + auth.SESSION_SECONDS - 1)
    assert not auth.session_valid(TOKEN, session, NOW + auth.SESSION_SECONDS)
    assert not auth.session_valid("rotated-token", session, NOW)
    assert TOKEN not in session


def test_a_forged_or_stretched_session_is_refused():
    session = auth.new_session(TOKEN, NOW)
    expires, _, mac = session.partition(".")
    assert not auth.session_valid(TOKEN, f"{int(expires) + 86400}.{mac}", NOW)
    assert not auth.session_valid(TOKEN, f"{expires}.{'0' * 64}", NOW)
    for junk in (None, "", ".", "abc.def", session + "x"):
        assert not auth.session_valid(TOKEN, junk, NOW)


def test_cookie_requests_need_the_csrf_header_of_that_session():
    session = auth.new_session(TOKEN, NOW)
    cookies = {auth.SESSION_COOKIE: session}
    good = {auth.CSRF_HEADER: auth.csrf_token(TOKEN, session)}
    assert auth.cookie_request_valid(TOKEN, cookies, good, NOW)
    assert not auth.cookie_request_valid(TOKEN, cookies, {}, NOW)
    other = auth.new_session(TOKEN, NOW + 1)
    wrong = {auth.CSRF_HEADER: auth.csrf_token(TOKEN, other)}
    assert not auth.cookie_request_valid(TOKEN, cookies, wrong, NOW)
    assert not auth.cookie_request_valid(TOKEN, {}, good, NOW)


def test_bearer_needs_the_exact_token():
    assert auth.bearer_valid(TOKEN, f"Bearer {TOKEN}")
    assert auth.bearer_valid(TOKEN, f"bearer {TOKEN}")
    for header in (None, "", TOKEN, f"Basic {TOKEN}", f"Bearer {TOKEN}x", "Bearer "):
        assert not auth.bearer_valid(TOKEN, header)


def test_after_login_only_pages_of_the_ui():
    assert auth.safe_next("/ui/deployments/4?x=1") == "/ui/deployments/4?x=1"
    for target in (None, "", "https://evil.example", "//evil.example", "/ui//evil", "/ui\\x"):
        assert auth.safe_next(target) == "/ui"
    assert auth.safe_next("/metrics") == "/ui"
