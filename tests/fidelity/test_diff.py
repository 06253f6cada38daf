"""The pure parts of the equivalence suite: diff, normalization, allowlist, coverage."""

from __future__ import annotations

from pathlib import Path

from tests.fidelity import coverage
from tests.fidelity.allowlist import ALLOWED, Allowed, one_of, unexplained
from tests.support.fidelity import normalize
from tests.support.fidelity.diff import MISSING, Difference, diff, flatten


def test_flatten_keeps_lists_whole() -> None:
    assert flatten({"a": {"b": 1, "c": [2, 1]}, "d": {}}) == {"a.b": 1, "a.c": [2, 1], "d": {}}


def test_diff_reports_changed_missing_and_one_sided_objects() -> None:
    a = {"x": {"Dns": ["1.1.1.1", "8.8.8.8"], "Same": 1, "Only": "a"}, "gone": {}}
    b = {"x": {"Dns": ["8.8.8.8", "1.1.1.1"], "Same": 1}}
    assert diff(a, b, []) == [
        Difference("gone", "<exists>", True, False),
        Difference("x", "Dns", ["1.1.1.1", "8.8.8.8"], ["8.8.8.8", "1.1.1.1"]),
        Difference("x", "Only", "a", MISSING),
    ]


def test_normalizers_apply_to_each_side() -> None:
    tables = {"compose": {"fa1": "<project>"}, "slipway": {"fb1": "<project>"}}

    def rename(objects, side):
        return {normalize.replace(k, tables[side]): v for k, v in objects.items()}

    assert diff({"fa1-web": {"A": "fa1"}}, {"fb1-web": {"A": "fb1"}}, [rename]) == [
        Difference("<project>-web", "A", "fa1", "fb1")
    ]


def test_replace_prefers_the_longest_key_and_reaches_mapping_keys() -> None:
    table = {"abc123": "<id>", "abc123def": "<full-id>", "fa1": "<project>"}
    value = {"fa1_default": ["abc123def", "x abc123"]}
    assert normalize.replace(value, table) == {"<project>_default": ["<full-id>", "x <id>"]}


def test_allowlist_checks_values_not_only_paths() -> None:
    entry = Allowed(
        "HostConfig.RestartPolicy.Name", "no policy", cosmetic=True, when=one_of("", "no")
    )
    unset = Difference("c", "HostConfig.RestartPolicy.Name", "", "no")
    changed = Difference("c", "HostConfig.RestartPolicy.Name", "", "always")
    assert entry.matches(unset) and not entry.matches(changed)
    assert unexplained([changed]) == [changed]


def test_every_allowlist_entry_has_a_reason() -> None:
    assert all(len(entry.reason) > 20 for entry in ALLOWED)


def test_cases_cover_every_translated_key(repo_root: Path) -> None:
    documents = coverage.case_documents(repo_root)
    used = set().union(*(coverage.used_keys(d) for d in documents.values()))
    missing = coverage.translated_keys() - used - set(coverage.NOT_EXERCISED)
    assert not missing, f"translated keys no case exercises: {sorted(missing)}"
    assert not set(coverage.NOT_EXERCISED) & used


def test_the_docs_mirror_the_allowlist_and_the_counts(repo_root: Path) -> None:
    text = (repo_root / "docs" / "compose-support.md").read_text()
    start = text.index("## Differences from docker compose up, measured")
    section = text[start : text.index("\n## ", start + 1)]
    missing = sorted({e.path for e in ALLOWED if f"`{e.path}`" not in section})
    assert not missing, f"allowlist entries the docs do not list: {missing}"
    cosmetic = sum(e.cosmetic for e in ALLOWED)
    words = " ".join(section.split())
    assert (
        f"{len(ALLOWED)} entries: {cosmetic} cosmetic, {len(ALLOWED) - cosmetic} behavioural"
        in words
    )
    documents = coverage.case_documents(repo_root).values()
    used = set().union(*(coverage.used_keys(d) for d in documents)) & coverage.translated_keys()
    forms = set().union(*(coverage.forms(d) for d in documents))
    assert f"use {len(used)} of the {len(coverage.translated_keys())} keys" in words
    assert f"in {len(forms)} forms" in words
