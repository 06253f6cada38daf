"""Binds of checkout paths under the deploy service (components/compose_stack/project_binds.py):
translation points them at the stack's binds folder; an `up` copies the commit's files in."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from components.compose_stack import project_binds
from components.compose_stack.plan import Mount, ProjectCopy, Upload
from components.compose_stack.project_binds import (
    BINDS_DIR_ENV,
    ProjectBindsError,
    copy_commit_files,
)
from components.compose_stack.report import HostFacts
from tests.components.compose_stack.test_translate import _one
from tests.support.program_run import run_program

BINDS = "/var/lib/slipway/binds/stack-prod"
UNDER_SERVICE = HostFacts(
    project_dir="/srv/co/stacks/app",
    checkout_dir="/srv/co",
    binds_dir=BINDS,
    is_file=lambda p: p.endswith(".conf"),
)


COMPOSE = "services:\n  web:\n    image: nginx\n    volumes: ['./conf:/conf']\n"


def _bind(source: str, target: str, read_only: bool = False) -> dict:
    return {"type": "bind", "source": source, "target": target, "read_only": read_only}


def test_binds_of_checkout_paths_point_at_the_binds_folder() -> None:
    service, plan = _one(
        {
            "volumes": [
                _bind("/srv/co/stacks/app/data", "/data"),
                _bind("/srv/co/shared/certs", "/certs", read_only=True),  # above the project
                _bind("/srv/co/stacks/app/site.conf", "/etc/site.conf", read_only=True),
                _bind("/var/log/app", "/logs"),  # a host path: left alone
            ]
        },
        UNDER_SERVICE,
    )
    assert service.mounts == [
        Mount("bind", "/data", f"{BINDS}/stacks/app/data"),
        Mount("bind", "/certs", f"{BINDS}/shared/certs", True),
        Mount("bind", "/logs", "/var/log/app"),
    ]
    assert service.project_copies == [
        ProjectCopy("/srv/co/stacks/app/data", f"{BINDS}/stacks/app/data"),
        ProjectCopy("/srv/co/shared/certs", f"{BINDS}/shared/certs"),
    ]
    # A read-only project file is still shipped with the deployment, as without the service.
    assert service.uploads == [
        Upload(target="/etc/site.conf", source="/srv/co/stacks/app/site.conf")
    ]
    assert not plan.warnings


def test_without_the_service_binds_stay_in_the_project_folder_as_in_compose() -> None:
    facts = HostFacts(project_dir="/srv/co/stacks/app", checkout_dir="/srv/co")
    service, _ = _one({"volumes": [_bind("/srv/co/stacks/app/data", "/data")]}, facts)
    assert service.mounts == [Mount("bind", "/data", "/srv/co/stacks/app/data")]
    assert service.project_copies == []


def test_a_read_only_service_binds_its_project_file_from_the_binds_folder_without_warning() -> None:
    service, plan = _one(
        {
            "read_only": True,
            "volumes": [_bind("/srv/co/stacks/app/site.conf", "/etc/site.conf", read_only=True)],
        },
        UNDER_SERVICE,
    )
    assert service.mounts == [
        Mount("bind", "/etc/site.conf", f"{BINDS}/stacks/app/site.conf", True)
    ]
    assert not plan.warnings


def _tree(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_an_up_copies_the_commits_files_and_keeps_what_containers_wrote(tmp_path: Path) -> None:
    checkout, kept = tmp_path / "checkout/data", tmp_path / "binds/data"
    _tree(checkout, {"seed.txt": "v1", "conf/app.ini": "a=1", ".git": "gitdir: elsewhere"})
    (checkout / "run.sh").write_text("#!/bin/sh\n")
    (checkout / "run.sh").chmod(0o755)
    (checkout / "latest").symlink_to("seed.txt")
    copies = [ProjectCopy(str(checkout), str(kept))]

    lines = copy_commit_files(copies)

    assert (kept / "seed.txt").read_text() == "v1"
    assert (kept / "conf/app.ini").read_text() == "a=1"
    assert os.readlink(kept / "latest") == "seed.txt"
    assert (kept / "run.sh").stat().st_mode & 0o777 == 0o755
    assert not (kept / ".git").exists()
    assert lines == [f"binds: {kept}: 4 file(s) from the commit updated"]

    # The container writes; the next commit changes one file: both are there afterwards.
    (kept / "db.sqlite").write_text("rows")
    (checkout / "seed.txt").write_text("v2")
    assert copy_commit_files(copies) == [f"binds: {kept}: 1 file(s) from the commit updated"]
    assert (kept / "seed.txt").read_text() == "v2"
    assert (kept / "db.sqlite").read_text() == "rows"
    assert copy_commit_files(copies) == [f"binds: {kept}: 0 file(s) from the commit updated"]


def test_a_path_the_commit_does_not_have_is_left_to_docker(tmp_path: Path) -> None:
    kept = tmp_path / "binds/stacks/app/data"
    assert copy_commit_files([ProjectCopy(str(tmp_path / "checkout/data"), str(kept))]) == []
    assert kept.parent.is_dir() and not kept.exists()


def test_a_single_file_bind_follows_the_commit(tmp_path: Path) -> None:
    source, kept = tmp_path / "app.env", tmp_path / "binds/app.env"
    source.write_text("A=1\n")
    copy_commit_files([ProjectCopy(str(source), str(kept))])
    assert kept.read_text() == "A=1\n"


def test_a_folder_where_the_commit_has_a_file_is_an_error_and_nothing_is_deleted(
    tmp_path: Path,
) -> None:
    source, kept = tmp_path / "app.env", tmp_path / "binds/app.env"
    source.write_text("A=1\n")
    (kept / "written").parent.mkdir(parents=True)  # Docker made a folder for a missing file
    (kept / "written").write_text("by the container")
    with pytest.raises(ProjectBindsError, match=r"app\.env in the binds folder is in the way"):
        copy_commit_files([ProjectCopy(str(source), str(kept))])
    assert (kept / "written").read_text() == "by the container"


def test_a_binds_folder_the_service_may_not_write_names_the_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Tests run as root, who may write anywhere: the refusal comes from the copy itself.
    def refused(source: Path, path: Path) -> None:
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(project_binds, "copy_atomically", refused)
    source = tmp_path / "data"
    _tree(source, {"seed.txt": "v1"})
    with pytest.raises(ProjectBindsError, match=r"mkdir -p .* && chown -R") as raised:
        copy_commit_files([ProjectCopy(str(source), str(tmp_path / "binds/data"))])
    assert "Permission denied" in str(raised.value)


def test_a_bound_symlink_stays_a_symlink_and_its_target_is_not_copied(tmp_path: Path) -> None:
    outside = tmp_path / "mnt/data"
    _tree(outside, {"big.db": "host data"})
    source, kept = tmp_path / "checkout/data", tmp_path / "binds/data"
    source.parent.mkdir()
    source.symlink_to(outside)
    copy_commit_files([ProjectCopy(str(source), str(kept))])
    assert kept.is_symlink() and os.readlink(kept) == str(outside)
    assert sorted(p.name for p in (tmp_path / "binds").iterdir()) == ["data"]


def test_the_program_copies_at_up_and_a_preview_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    checkout, binds = tmp_path / "checkout", tmp_path / "binds"
    _tree(checkout, {"app/conf/site.ini": "v1", "app/compose.yml": COMPOSE})
    monkeypatch.setenv(BINDS_DIR_ENV, str(binds))
    config = {"slipway:composeFiles": [str(checkout / "app/compose.yml")]}

    preview = run_program("binds", config, preview=True, cwd=checkout)
    [container] = preview.of_type("docker:index/container:Container")
    sources = {v["containerPath"]: v["hostPath"] for v in container.inputs["volumes"]}
    assert sources == {"/conf": str(binds / "app/conf")}
    assert not binds.exists()

    run_program("binds", config, cwd=checkout)
    assert (binds / "app/conf/site.ini").read_text() == "v1"


def test_a_read_only_services_secret_file_is_bound_from_the_binds_folder() -> None:
    service, plan = _one(
        {"read_only": True, "secrets": [{"source": "key", "target": "key"}]},
        UNDER_SERVICE,
        secrets={"key": {"file": "/srv/co/stacks/app/key.conf"}},
    )
    assert service.mounts == [
        Mount("bind", "/run/secrets/key", f"{BINDS}/stacks/app/key.conf", True)
    ]
    assert service.project_copies == [
        ProjectCopy("/srv/co/stacks/app/key.conf", f"{BINDS}/stacks/app/key.conf")
    ]
    assert not plan.warnings
