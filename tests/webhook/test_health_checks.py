"""One `healthChecks` model: what the stack config exports is what the service probes, with
one default timeout, and both refuse a bad entry with the same words."""

from __future__ import annotations

from pathlib import Path

import pytest

from components.config import ConfigError, parse_config
from webhook.health import HealthConfigError, HealthTarget, parse_health_checks
from webhook.health_checks import DEFAULT_TIMEOUT_SECONDS, HealthCheck, read_health_checks

BASE = {"composeFiles": ["stacks/app.yml"]}


def stack_output(health_checks: list) -> list[dict]:
    root = Path(__file__).resolve().parents[2]
    config = parse_config({**BASE, "healthChecks": health_checks}, stack="dev", root=root)
    return [check.as_output() for check in config.health_checks]


def test_the_service_probes_what_the_stack_config_exports() -> None:
    output = stack_output([{"url": "https://shop.example.com/healthz"}])
    assert output == [
        {"url": "https://shop.example.com/healthz", "status": 200, "timeoutSeconds": 10.0}
    ]
    assert parse_health_checks(output) == [HealthCheck("https://shop.example.com/healthz")]


def test_one_default_timeout_for_the_config_and_the_service() -> None:
    assert HealthTarget is HealthCheck
    assert DEFAULT_TIMEOUT_SECONDS == 10.0
    (from_service,) = parse_health_checks([{"url": "http://x"}])
    assert from_service.timeout_seconds == DEFAULT_TIMEOUT_SECONDS


@pytest.mark.parametrize(
    ("entry", "key", "message"),
    [
        ({"url": "localhost/healthz"}, "healthChecks[0].url", "must be an http(s) URL"),
        ({"url": "http://x", "status": 99}, "healthChecks[0].status", "must be an HTTP status"),
        ({"url": "http://x", "timeoutSeconds": 0}, "healthChecks[0].timeoutSeconds", "positive"),
        ({"url": "http://x", "timeout": 3}, "healthChecks[0]", "unknown field(s) timeout"),
    ],
)
def test_both_refuse_a_bad_entry_with_the_same_words(entry: dict, key: str, message: str) -> None:
    (problem,) = read_health_checks([entry])[1]
    assert problem.key == key and message in problem.message
    with pytest.raises(ConfigError) as config_error:
        stack_output([entry])
    assert f"slipway:{key}: {problem.message}" in str(config_error.value)
    with pytest.raises(HealthConfigError) as service_error:
        parse_health_checks([entry])
    assert str(service_error.value) == f"{key} {problem.message}"
