"""write_atomically: the file is replaced by a rename, so a failure leaves the original."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from components import atomic_write
from components.atomic_write import write_atomically


def test_the_new_text_arrives_as_a_new_file_renamed_over_the_old(tmp_path: Path) -> None:
    target = tmp_path / "compose.yml"
    target.write_text("old\n")
    with target.open() as reader:  # a reader that opened the file before the write
        before = os.stat(target).st_ino
        write_atomically(target, "new\n")
        assert reader.read() == "old\n"  # it keeps the whole old file, never a mix
    assert target.read_text() == "new\n"
    assert os.stat(target).st_ino != before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["compose.yml"]


def test_a_failure_while_writing_leaves_the_original_and_no_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "compose.yml"
    target.write_text("original\n")

    def fail_midway(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(atomic_write.os, "fsync", fail_midway)
    with pytest.raises(OSError, match="No space left"):
        write_atomically(target, "x" * 100_000)
    assert target.read_text() == "original\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["compose.yml"]


def test_a_failed_rename_leaves_the_original_and_no_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "compose.yml"
    target.write_text("original\n")

    def refuse(src: str, dst: str) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(atomic_write.os, "replace", refuse)
    with pytest.raises(PermissionError):
        write_atomically(target, "new\n")
    assert target.read_text() == "original\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["compose.yml"]
