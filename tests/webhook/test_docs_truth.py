"""The guides say what the service does: metric names, the route table, runnable examples.

- Every `slipway_…` name in README.md and docs/*.md (in backticks) is a sample of a real
  `/metrics` scrape, with the labels the docs give it (`name{a,b}`).
- The route table of docs/webhook.md lists exactly the status codes of the app's OpenAPI
  for each API route, and every code it lists for `POST /hooks/github` is really answered.
- Every ```` ```sh runnable ```` block runs against a fresh service (`bash -euo pipefail`;
  `http://127.0.0.1:8000` becomes the service's address), and each `# HTTP/1.1 NNN` or
  JSON comment line in it appears in what it printed.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.webhook.conftest import SECRET, TOKEN, ListQueue, Service, ServiceFactory
from webhook.store import NewDeployment
from webhook.store.states import DeploymentKind, DeploymentState

REPO = Path(__file__).resolve().parents[2]
GUIDES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
NOT_METRICS = {"slipway_deployment_id"}  # docs/github.md: a GitHub Deployment payload field
METRIC = re.compile(r"`(slipway_[a-z0-9_]+)(?:\{([a-z_,]*)\})?")
RUNNABLE = re.compile(r"^```sh runnable\n(.*?)^```$", re.S | re.M)
S = DeploymentState


def doc_metrics() -> dict[str, set[frozenset[str]]]:
    """Metric name -> the label sets the guides give it."""
    found: dict[str, set[frozenset[str]]] = {}
    for guide in GUIDES:
        for name, labels in METRIC.findall(guide.read_text()):
            if name not in NOT_METRICS:
                found.setdefault(name, set()).add(frozenset(filter(None, labels.split(","))))
    return found


def scraped_samples(service: Service) -> dict[str, set[frozenset[str]]]:
    """Sample name -> label sets, after traffic that makes every metric have samples (the
    missed-delivery poll's checks of a repository that does not exist count as errors)."""
    service.deliver("ping", {"zen": "hi", "hook_id": 1})
    service.deliver("ping", {"zen": "hi"}, secret="wrong-secret-0123456789")
    for _ in range(3):  # the limit is 2/minute: the third is 429
        service.deliver("ping", {"zen": "hi"})
    assert service.api("POST", "/deployments", json={"sha": "a" * 40}).status_code == 202
    healthy = service.store.create_deployment(NewDeployment(DeploymentKind.DEPLOY, "dev", "b" * 7))
    for state in (S.RUNNING, S.VERIFYING, S.SUCCEEDED):
        service.store.set_state(healthy.id, state)
    deadline = time.monotonic() + 10
    while True:
        samples: dict[str, set[frozenset[str]]] = {}
        for family in text_string_to_metric_families(service.client.get("/metrics").text):
            for sample in family.samples:
                samples.setdefault(sample.name, set()).add(frozenset(sample.labels))
        if "slipway_poll_checks_total" in samples or time.monotonic() > deadline:
            return samples
        time.sleep(0.05)


def test_every_metric_in_the_docs_is_scraped_with_its_labels(
    start_service: ServiceFactory, tmp_path: Path
) -> None:
    documented = doc_metrics()
    assert {"slipway_queue_depth", "slipway_http_requests_total"} <= set(documented)
    service = start_service(
        hook_rate_limit="2/minute",
        repo_url=str(tmp_path / "no-such-repository"),
        poll_interval_seconds=0.05,
    )
    samples = scraped_samples(service)
    for name, label_sets in documented.items():
        assert name in samples, f"{name} is in the docs but not in a /metrics scrape"
        for labels in label_sets - {frozenset()}:
            assert labels in samples[name], f"{name}{{{','.join(sorted(labels))}}}: wrong labels"


def route_table() -> dict[tuple[str, str], set[int]]:
    """(method, path) -> status codes, from the `## Routes` table of docs/webhook.md."""
    text = (REPO / "docs" / "webhook.md").read_text()
    table = text.split("## Routes", 1)[1].split("\n\n", 2)[1]
    routes = {}
    for row in table.splitlines()[2:]:
        route, _, answers = (cell.strip() for cell in row.strip("|").split("|"))
        method, path = route.strip("`").split(" ", 1)
        codes = re.findall(r"\b[1-5]\d\d\b", answers)
        routes[(method, path.split("?")[0])] = {int(code) for code in codes}
    return routes


def openapi_routes(service: Service) -> dict[tuple[str, str], set[int]]:
    schema = service.client.get("/openapi.json").json()
    return {
        (method.upper(), path): {int(code) for code in operation["responses"]}
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
    }


HOOK = ("POST", "/hooks/github")


def test_the_route_table_has_the_codes_of_the_openapi(service: Service) -> None:
    documented = route_table()
    assert documented.pop(HOOK)  # not in the OpenAPI: the raw endpoint, checked below
    assert documented == openapi_routes(service)


def hook_answers(start_service: ServiceFactory, push: dict[str, Any]) -> set[int]:
    """Provoke every answer the raw hook documents, on services set up for each."""
    plain = start_service()
    answers = {
        plain.deliver("push", push).status_code,
        plain.deliver("ping", {"zen": "hi"}).status_code,
        plain.deliver("ping", {"zen": "hi"}, headers={"X-GitHub-Event": ""}).status_code,
        plain.deliver("ping", {"zen": "hi"}, secret="wrong-secret-0123456789").status_code,
        plain.deliver("ping", {"zen": "hi"}, headers={"Content-Type": "text/plain"}).status_code,
    }
    small = start_service(max_body_bytes=10)
    answers.add(small.deliver("ping", {"zen": "a longer body than ten bytes"}).status_code)
    limited = start_service(hook_rate_limit="1/minute")
    answers |= {limited.deliver("ping", {}).status_code for _ in range(2)}
    refusing = start_service(queue=ListQueue(refuse=True))
    answers.add(refusing.deliver("push", push).status_code)
    return answers


def test_the_hook_answers_every_code_of_its_row(
    start_service: ServiceFactory, push_example: dict[str, Any]
) -> None:
    assert hook_answers(start_service, push_example) == route_table()[HOOK]


def runnable_examples() -> list[tuple[str, str]]:
    return [
        (f"{guide.relative_to(REPO)}#{number}", block)
        for guide in GUIDES
        for number, block in enumerate(RUNNABLE.findall(guide.read_text()), start=1)
    ]


def expected_lines(block: str) -> list[str]:
    """The comment lines that show output: a status line, or a JSON answer given whole."""
    shown = []
    for line in block.splitlines():
        text = line.strip().removeprefix("# ")
        if not line.lstrip().startswith("#"):
            continue
        if text.startswith("HTTP/1.1 "):
            shown.append(text)
            continue
        try:
            json.loads(text)
        except ValueError:
            continue
        shown.append(text)
    return shown


@pytest.mark.parametrize(("where", "block"), runnable_examples())
def test_runnable_examples_run(service: Service, where: str, block: str) -> None:
    env = {
        **os.environ,
        "SLIPWAY_WEBHOOK_SECRET": SECRET,
        "SLIPWAY_API_TOKEN": TOKEN,
        "TOKEN": TOKEN,
        "T": TOKEN,
        "SLIPWAY": service.url,
    }
    script = block.replace("http://127.0.0.1:8000", service.url)
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, f"{where}: {result.stderr}"
    for line in expected_lines(block):
        assert line in result.stdout, f"{where}: {line!r} not in {result.stdout!r}"


def test_there_are_runnable_examples() -> None:
    assert len(runnable_examples()) >= 2
