"""Fuzzing of the service's HTTP surface (issue 32), bounded: a fixed number of examples
(SLIPWAY_PROPERTY_EXAMPLES, when set, bounds both kinds: `make check` sets it low).

- schemathesis against the service's own OpenAPI document: every operation, with and
  without the bearer token, FUZZ_EXAMPLES cases each;
- hypothesis for signed hook deliveries: payload shapes, event and delivery headers and
  content types, HOOK_EXAMPLES cases.
Each must give no 5xx (the only documented one is 503 when the queue refuses, and this
queue never does) and no ERROR record in the log (an unhandled exception is one).
"""

from __future__ import annotations

import logging
import os
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.queue_double import FakeQueue
from tests.support.service import (
    SECRET,
    TOKEN,
    make_settings,
    serve_on_loopback,
    signed_delivery,
)
from webhook.http.app import create_app
from webhook.store import Store

# The full budget (`make test`); `make check` sets SLIPWAY_PROPERTY_EXAMPLES to a few cases each.
FUZZ_EXAMPLES = int(os.environ.get("SLIPWAY_PROPERTY_EXAMPLES", "100"))  # per operation
HOOK_EXAMPLES = int(os.environ.get("SLIPWAY_PROPERTY_EXAMPLES", "600"))
CASES: Counter[str] = Counter()  # cases run, by test: printed at the end of the module


@pytest.fixture(scope="module")
def fuzz_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One real service for the module, with limits high enough not to answer 429."""
    state: Path = tmp_path_factory.mktemp("fuzz")
    config = make_settings(state, api_rate_limit="100000/minute", hook_rate_limit="100000/minute")
    store = Store.open(config.database_path)
    try:
        with serve_on_loopback(create_app(config, store, FakeQueue())) as url:
            yield url
    finally:
        store.close()
    print(f"\nfuzzing cases run: {dict(CASES)}")


@pytest.fixture
def no_errors_logged(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    caplog.set_level(logging.ERROR)
    yield
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, "\n".join(r.getMessage() + (r.exc_text or "") for r in errors)


def _operations(url: str) -> list[Any]:
    """Every operation of the service's OpenAPI document (served by the service itself)."""
    import schemathesis  # here, not at the top: every xdist worker collects this module

    schema = schemathesis.openapi.from_url(f"{url}/openapi.json")
    return [result.ok() for result in schema.get_all_operations()]


def _fuzz(url: str, headers: dict[str, str], label: str) -> None:
    """FUZZ_EXAMPLES cases per operation (schemathesis' pytest plugin does not run on
    pytest 9, so each operation's strategy is run by hypothesis directly)."""
    operations = _operations(url)
    assert len(operations) >= 7, [op.label for op in operations]
    for operation in operations:
        _fuzz_operation(operation, headers, label)


def _fuzz_operation(operation: Any, headers: dict[str, str], label: str) -> None:
    @given(case=operation.as_strategy())
    @settings(max_examples=FUZZ_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
    def run(case: Any) -> None:
        CASES[f"{label}: {operation.label}"] += 1
        response = case.call(headers=headers)
        assert response.status_code < 500, (
            f"{case.method} {case.formatted_path} {case.query} -> "
            f"{response.status_code}: {response.text[:300]}"
        )

    run()


def test_api_without_auth(fuzz_url: str, no_errors_logged: None) -> None:
    _fuzz(fuzz_url, {}, "without auth")


def test_api_with_auth(fuzz_url: str, no_errors_logged: None) -> None:
    _fuzz(fuzz_url, {"Authorization": f"Bearer {TOKEN}"}, "with auth")


# ---- signed hook deliveries -------------------------------------------------------------

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
SHA = st.text("0123456789abcdef", min_size=40, max_size=40)
ANY = JSON | SHA
REPO = {"full_name": "octo-org/shop"}


def _maybe(value: Any) -> st.SearchStrategy[Any]:
    """`value`, or anything else in its place."""
    return st.one_of(st.just(value), ANY)


PUSH = st.fixed_dictionaries(
    {
        "ref": _maybe("refs/heads/master") | st.text(max_size=40).map(lambda t: f"refs/heads/{t}"),
        "after": _maybe("a" * 40) | SHA,
        "deleted": _maybe(False),
        "pusher": _maybe({"name": "octocat"}),
        "repository": _maybe(REPO),
    }
)
PULL = st.fixed_dictionaries(
    {
        "action": _maybe("opened"),
        "repository": _maybe(REPO),
        "pull_request": st.fixed_dictionaries(
            {
                "number": _maybe(7),
                "author_association": _maybe("OWNER"),
                "head": st.fixed_dictionaries(
                    {"sha": _maybe("b" * 40) | SHA, "ref": _maybe("feature"), "repo": _maybe(REPO)}
                ),
            }
        )
        | ANY,
    }
)
HEADER_TEXT = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=20)
EVENTS = st.sampled_from(["push", "pull_request", "ping", "issues"]) | HEADER_TEXT
CONTENT_TYPES = st.sampled_from(
    [
        "application/json",
        "application/json; charset=utf-8",
        "application/x-www-form-urlencoded",
        "text/plain",
        "",
        "APPLICATION/JSON",
        "application/\u00ffjson",
    ]
)


@given(
    event=EVENTS,
    payload=PUSH | PULL | JSON,
    content_type=CONTENT_TYPES,
    delivery=st.uuids().map(str) | HEADER_TEXT,
    form=st.booleans(),
)
@settings(max_examples=HOOK_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_signed_hook_deliveries(
    fuzz_url: str,
    no_errors_logged: None,
    event: str,
    payload: Any,
    content_type: str,
    delivery: str,
    form: bool,
) -> None:
    CASES["signed hook deliveries"] += 1
    raw = httpx.Request("POST", "/", json=payload).content  # any JSON value, not only objects
    request = signed_delivery(event, raw, None, SECRET, None, form)
    headers = {k: v.encode() for k, v in request["headers"].items()}
    headers["X-GitHub-Delivery"] = delivery.encode()
    if not form:
        headers["Content-Type"] = content_type.encode("latin-1")  # one raw byte per char
    with httpx.Client(base_url=fuzz_url, timeout=30) as client:
        response = client.post("/hooks/github", content=request["content"], headers=headers)
    assert response.status_code < 500, (event, payload, content_type, response.text[:300])
    assert response.status_code in (200, 202, 400, 415), (response.status_code, response.text)
