"""The guides say what the service does: metric names, the route table, runnable examples.

- Every `slipway_…` name in README.md and docs/*.md (in backticks) is a sample of a real
  `/metrics` scrape, with the labels the docs give it (`name{a,b}`).
- The route table of docs/webhook.md lists exactly the status codes of the app's OpenAPI
  for each API route, and every code it lists for `POST /hooks/github` is really answered.
- Every ```` ```sh runnable ```` block runs against a fresh service (`bash -euo pipefail`;
  `http://127.0.0.1:8000` becomes the service's address), and each `# HTTP/1.1 NNN` or
  JSON comment line in it appears in what it printed.
- Every repository path a guide, a docstring or a comment names exists (see `stale_paths`).
"""

from __future__ import annotations

import ast
import functools
import io
import json
import os
import re
import subprocess
import time
import tokenize
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.support.paths import REPO_ROOT
from tests.support.queue_double import FakeQueue
from tests.support.service import SECRET, TOKEN, Service, ServiceFactory
from webhook.store import NewDeployment
from webhook.store.drift import DriftRecords, DriftResult
from webhook.store.states import DeploymentKind, DeploymentState

GUIDES = [REPO_ROOT / "README.md", *sorted((REPO_ROOT / "docs").glob("*.md"))]
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
    drift = DriftRecords(service.store)  # one drift check found (docs/drift.md)
    drift.finish(drift.start("dev", "b" * 7).id, DriftResult.DRIFTED, [{"name": "web"}])
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
    text = (REPO_ROOT / "docs" / "webhook.md").read_text()
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
    refusing = start_service(queue=FakeQueue(refuse=True))
    answers.add(refusing.deliver("push", push).status_code)
    return answers


def test_the_hook_answers_every_code_of_its_row(
    start_service: ServiceFactory, push_example: dict[str, Any]
) -> None:
    assert hook_answers(start_service, push_example) == route_table()[HOOK]


def runnable_examples() -> list[tuple[str, str]]:
    return [
        (f"{guide.relative_to(REPO_ROOT)}#{number}", block)
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


# Repository paths named in prose. Guides: README.md, the contributing guide, docs/*.md (the dated
# notes under docs/notes/ are records of their day and keep the paths of that day). Code:
# every docstring and `#` comment of the Python files, and the comments of the shell
# scripts, in these folders.
PATH_GUIDES = [*GUIDES, REPO_ROOT / "CONTRIBUTING.md"]
PATH_CODE = [
    "__main__.py",
    "webhook",
    "components",
    "deploy_client",
    "scripts",
    "deploy",
    "bench",
    "tests",
]
# A word like `a/b` under a top-level name of the repository is taken as a path; these are
# prose that only looks like one.
NOT_PATHS = {"deploy/rollback"}
PATH_WORD = re.compile(r"(?<![\w./:@~$<>-])(\.?[A-Za-z_][\w.-]*(?:/[\w.*-]+)*/?)")
FILE_NAME = re.compile(r"^[\w-]+\.(?:py|md)$")
MD_LINK = re.compile(r"\]\(([^)\s#]*)(?:#([^)\s]*))?\)")
RUN_MODULE = re.compile(r"python -m ([A-Za-z_][\w.]*)")


@functools.cache
def _git_files() -> tuple[str, ...]:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return tuple(listed.stdout.splitlines())


@functools.cache
def _known(files: tuple[str, ...]) -> tuple[frozenset[str], frozenset[str]]:
    """The repository's top-level names, and the names of its files."""
    return frozenset(n.split("/")[0] for n in files), frozenset(Path(n).name for n in files)


def _ignored(path: str) -> bool:
    """Generated places (`.venv/`, `tools/node_modules/`, `var/`) exist only after a build.
    A path not made yet may be a folder, which a `name/` pattern matches only with the `/`."""
    for candidate in (path, f"{path.rstrip('/')}/"):
        check = ["git", "check-ignore", "-q", "--no-index", candidate]
        if subprocess.run(check, cwd=REPO_ROOT, check=False).returncode == 0:
            return True
    return False


def _exists(path: str) -> bool:
    """A file or folder, a glob, a module without `.py`, or `module.name` (an attribute)."""
    if "*" in path:
        return any(REPO_ROOT.glob(path))
    module = path.rsplit(".", 1)[0] if "." in path.rsplit("/", 1)[-1] else path
    return any((REPO_ROOT / name).exists() for name in (path, f"{path}.py", f"{module}.py"))


@functools.cache
def _anchors(guide: Path) -> set[str]:
    """GitHub's heading ids: lower case, punctuation dropped, spaces to hyphens."""
    anchors: set[str] = set()
    for heading in re.findall(r"^#+ (.+)$", guide.read_text(), re.M):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        number = 0
        while (anchor := f"{slug}-{number}" if number else slug) in anchors:
            number += 1
        anchors.add(anchor)
    return anchors


def stale_paths(text: str, where: Path, files: tuple[str, ...]) -> Iterator[str]:
    """What `text` (one line of `where`) names that the repository does not have: a path
    under a top-level name (`webhook/<...>`, `docs/<...>.md`, globs allowed), a bare
    `<name>.py` or `<name>.md` no file is called, a `python -m` module, a relative Markdown
    link or its `#anchor`. A word followed by `<` or `{` is a pattern, not a path."""
    top, names = _known(files)
    for match in PATH_WORD.finditer(text):
        word = match.group(1).rstrip(".")
        if text[match.end() : match.end() + 1] in ("<", "{") or word in NOT_PATHS:
            continue
        if "/" in word:
            if word.split("/")[0] in top and not _exists(word) and not _ignored(word):
                yield word
        elif FILE_NAME.match(word) and word not in names:
            yield word
    for module in RUN_MODULE.findall(text):
        parts = module.rstrip(".").split(".")
        base = "/".join(parts)
        if parts[0] in top and not any(
            _exists(f"{base}{end}") for end in (".py", "/__init__.py", "/__main__.py")
        ):
            yield f"python -m {module}"
    if where.suffix != ".md":
        return
    for target, anchor in MD_LINK.findall(text):
        if re.match(r"^[a-z]+:", target):
            continue
        linked = (where.parent / target).resolve() if target else where
        if not linked.exists():
            yield f"({target})"
        elif anchor and linked.suffix == ".md" and anchor not in _anchors(linked):
            yield f"({target}#{anchor})"


def _prose_lines(path: Path) -> Iterator[tuple[int, str]]:
    """(line number, text) of a guide's lines, a Python file's docstrings and comments, or
    a shell script's comments."""
    text = path.read_text()
    if path.suffix == ".md":
        yield from enumerate(text.splitlines(), 1)
    elif path.suffix == ".sh":
        yield from ((n, line) for n, line in enumerate(text.splitlines(), 1) if "#" in line)
    else:
        docstrings = (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, docstrings) and ast.get_docstring(node, clean=False):
                first = node.body[0]
                for offset, line in enumerate(first.value.value.splitlines()):  # type: ignore[attr-defined]
                    yield first.lineno + offset, line
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type == tokenize.COMMENT:
                yield token.start[0], token.string


def _prose_files() -> list[Path]:
    code = []
    for name in PATH_CODE:
        place = REPO_ROOT / name
        code += [place] if place.is_file() else sorted([*place.rglob("*.py"), *place.rglob("*.sh")])
    return [path for path in [*PATH_GUIDES, *code] if path.exists()]


def test_every_path_the_docs_and_comments_name_exists() -> None:
    files = _git_files()
    stale = [
        f"{path.relative_to(REPO_ROOT)}:{number}: {word}"
        for path in _prose_files()
        for number, line in _prose_lines(path)
        for word in dict.fromkeys(stale_paths(line, path, files))
    ]
    assert not stale, "these name a path the repository does not have:\n" + "\n".join(stale)


def test_the_path_check_finds_a_stale_path(tmp_path: Path) -> None:
    files = _git_files()
    guide = REPO_ROOT / "docs" / "architecture.md"
    line = "See webhook/no_such.py, DESIGN.md, [x](webhook.md#no-such-section), "
    line += "`python -m webhook.nope`."
    assert list(stale_paths(line, guide, files)) == [
        "webhook/no_such.py",
        "DESIGN.md",
        "python -m webhook.nope",
        "(webhook.md#no-such-section)",
    ]
    fine = "webhook/http/app.py, bench/bench_*.py, bench/<name>.py, [r](runbook.md#states), "
    fine += ".venv/bin/python, webhook/runners/up_report, bench/performance_doc.write_section"
    assert list(stale_paths(fine, guide, files)) == []


MAPPED = ["webhook", "components", "deploy_client", "scripts", "deploy"]


def unmapped_modules(architecture: str, files: list[str] | tuple[str, ...]) -> list[str]:
    """The files of the mapped folders (Python modules; every file of scripts/ and deploy/)
    that docs/architecture.md's module map has no line for."""
    mapped = architecture.split("## Module map", 1)[-1].split("\n## ", 1)[0]
    lines = set(re.findall(r"^- `([^`]+)`:", mapped, re.M))
    wanted = [
        name
        for name in files
        if name.split("/")[0] in MAPPED
        and (name.endswith(".py") or name.split("/")[0] in ("scripts", "deploy"))
        and (REPO_ROOT / name).exists()
    ]
    return sorted(name for name in wanted if name not in lines)


def test_the_module_map_names_every_module() -> None:
    architecture = (REPO_ROOT / "docs" / "architecture.md").read_text()
    tracked = subprocess.run(["git", "ls-files"], cwd=REPO_ROOT, capture_output=True, text=True)
    missing = unmapped_modules(architecture, tracked.stdout.splitlines())
    assert not missing, "docs/architecture.md, Module map: add a line for " + ", ".join(missing)
    assert unmapped_modules("## Module map\n", ["webhook/http/app.py"]) == ["webhook/http/app.py"]
