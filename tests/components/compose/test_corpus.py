"""Every project of the real-world corpus migrates, and means the same to Compose after.

The corpus (outside this repository, see `corpus_dir` in tests/conftest.py) is copied to
tmp_path per entry; nothing of it is committed into this repository.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from components.compose.migrate import Project, migrate, plan_project, uses_extends
from components.compose.yaml_source import load_source
from tests.support.paths import corpus_entries

from .helpers import comment_lines, copy_tree, model


@pytest.mark.parametrize("entry", corpus_entries())
def test_corpus_entry_migrates_to_an_equal_model(
    entry: dict, corpus_dir: Path, tmp_path: Path
) -> None:
    project_dir = copy_tree(corpus_dir / entry["dir"], tmp_path / entry["dir"])
    files = [project_dir / m for m in entry["main"]]
    originals = {f: f.read_text() for f in files}
    before = model(files, files[0].parent)
    assert any(uses_extends(load_source(f)) for f in files), "the entry should use extends"

    results = migrate(Project.of(files))

    after = model(files, files[0].parent)
    assert after == before
    for f in files:
        text = f.read_text()
        assert not uses_extends(load_source(f)), f"{f} still uses extends"
        missing = comment_lines(originals[f]) - comment_lines(text)
        assert not missing, f"comments lost in {f.name}: {sorted(missing)}"
        if text != originals[f]:
            assert Path(f"{f}.orig").read_text() == originals[f]
    assert sum(len(r.summary.services) for r in results) > 0
    assert not list(project_dir.rglob("*.migrating")), "temporary candidates left behind"
    # idempotent: the migrated project migrates to itself
    assert all(not r.changed for r in plan_project(Project.of(files)))
