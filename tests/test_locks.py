"""The hash-locked dependency sets: up to date with their inputs, complete, and consistent."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from scripts.lock import (
    LOCKS,
    canonical,
    compile_lock,
    input_files,
    pins,
    requirement_lines,
    stale,
)

RUNTIME, DEV, CLIENT = (lock.path for lock in LOCKS)


def _copy_inputs(repo_root: Path, target: Path) -> None:
    for lock in LOCKS:
        for path in [*input_files(repo_root / lock.source), repo_root / lock.path]:
            copy = target / path.relative_to(repo_root)
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, copy)


def test_every_lock_was_made_from_its_current_inputs(repo_root: Path) -> None:
    assert stale(repo_root) == []


@pytest.mark.parametrize(
    ("edited", "line", "expected_stale"),
    [
        ("requirements.txt", "tenacity==9.2.0", [RUNTIME, DEV]),
        # a new runtime lock (what `make lock` writes first) makes the other two stale
        ("requirements.lock", "tenacity==9.2.0", [DEV, CLIENT]),
        ("requirements-dev.txt", "pytest==9.1.0", [DEV]),
        ("deploy_client/requirements.txt", "anyio", [CLIENT]),
    ],
)
def test_an_edited_input_makes_its_locks_stale(
    repo_root: Path, tmp_path: Path, edited: str, line: str, expected_stale: list[str]
) -> None:
    _copy_inputs(repo_root, tmp_path)
    path = tmp_path / edited
    name = line.split("==")[0]
    kept = [ln for ln in path.read_text().splitlines() if not ln.startswith(f"{name}==")]
    path.write_text("\n".join([*kept, line]) + "\n")
    problems = stale(tmp_path)
    assert [p.split()[0] for p in problems] == expected_stale
    assert all("run `make lock`" in p for p in problems)


def test_a_comment_alone_does_not_need_a_new_lock(repo_root: Path, tmp_path: Path) -> None:
    _copy_inputs(repo_root, tmp_path)
    path = tmp_path / "requirements.txt"
    path.write_text("# a note for people\n" + path.read_text())
    assert stale(tmp_path) == []


@pytest.mark.parametrize("lock", [lock.path for lock in LOCKS])
def test_every_locked_package_is_pinned_with_hashes(repo_root: Path, lock: str) -> None:
    locked = pins(repo_root / lock)
    assert locked
    for name, (version, hashes) in locked.items():
        assert version[0].isdigit(), f"{lock}: {name} is not pinned exactly"
        assert hashes and all(h.startswith("sha256:") for h in hashes), f"{lock}: {name}"


@pytest.mark.parametrize("lock", [lock.path for lock in LOCKS])
def test_every_declared_pin_is_what_the_lock_holds(repo_root: Path, lock: str) -> None:
    source = next(entry.source for entry in LOCKS if entry.path == lock)
    locked = pins(repo_root / lock)
    for path in input_files(repo_root / source):
        for line in requirement_lines(path):
            if line.startswith("-"):
                continue
            name, _, version = line.partition("==")
            entry = locked.get(canonical(name))
            assert entry, f"{lock} lacks {name} declared in {path.name}: run `make lock`"
            assert not version or entry[0] == version, f"{lock}: {name} {entry[0]} != {version}"


@pytest.mark.parametrize("subset", [RUNTIME, CLIENT])
def test_runtime_and_client_pins_come_from_one_resolution(repo_root: Path, subset: str) -> None:
    """The dev lock holds the runtime lock, which holds the client's: same versions, hashes."""
    superset = DEV if subset == RUNTIME else RUNTIME
    small, big = pins(repo_root / subset), pins(repo_root / superset)
    different = {
        n: (v, big.get(n, ("absent",))[0]) for n, (v, h) in small.items() if big.get(n) != (v, h)
    }
    assert not different, f"{subset} differs from {superset}: {different}"


def test_make_lock_without_uv_names_the_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.executable", str(tmp_path / "bin" / "python"))
    with pytest.raises(SystemExit, match=r"bin/uv is missing: run `make venv`"):
        compile_lock(LOCKS[0], upgrade=False)
