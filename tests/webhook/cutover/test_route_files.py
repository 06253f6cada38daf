"""The proxy's routes folder, written by the service (webhook/cutover/route_files.py), and
the switch back through it."""

from __future__ import annotations

import os
import stat
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from webhook.cutover.caddy import Release, RouteSpec, release_files
from webhook.cutover.proxy_routes import ProxyRoutes
from webhook.cutover.route_files import RoutesFolder, RoutesFolderError
from webhook.cutover.steps import Cutover, CutoverPolicy, RoutingOutput
from webhook.health import HealthPolicy

D1 = Release("d1", {"web": ["10.0.0.1"]})
D2 = Release("d2", {"web": ["10.0.0.2", "10.0.0.3"]})


def test_a_release_directory_holds_what_caddy_reads_readable_by_any_user(tmp_path: Path) -> None:
    folder = RoutesFolder(tmp_path / "proxy-p")
    assert folder.live() is None  # before the first switch: no link, no error
    folder.write_release(D2, {**release_files(D2, {"web": 2}, {"web": 8080}), "odd": "it's $X"})
    folder.point("live", "d2")
    assert folder.live() == D2
    assert (folder.root / "live/web.1").read_text() == "10.0.0.3:8080"
    assert (folder.root / "live/odd").read_text() == "it's $X"  # written as is, no shell
    assert stat.S_IMODE((folder.root / "releases/d2/web.0").stat().st_mode) == 0o644


def test_a_switch_is_one_rename_that_a_reader_never_sees_missing(tmp_path: Path) -> None:
    folder = RoutesFolder(tmp_path)
    for release in (D1, D2):
        folder.write_release(release, {"release": release.name})
    folder.point("live", "d1")
    seen: list[str] = []
    missing: list[OSError] = []
    done = threading.Event()

    def read() -> None:  # what Caddy's {file.…} placeholder does on every request
        while not done.is_set():
            try:
                seen.append((tmp_path / "live/release").read_text())
            except OSError as error:
                missing.append(error)

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for _ in range(1000):  # the reader is reading before the first switch
            if seen:
                break
            time.sleep(0.001)
        for _ in range(200):
            folder.point("live", "d2")
            folder.point("live", "d1")
    finally:
        done.set()
        reader.join()
    assert not missing, missing[0]
    assert set(seen) <= {"d1", "d2"} and seen
    assert os.readlink(tmp_path / "live") == "releases/d1"


def test_prune_keeps_only_the_named_releases(tmp_path: Path) -> None:
    folder = RoutesFolder(tmp_path)
    folder.prune(["d1"])  # nothing written yet: nothing to do
    for release in (D1, D2, Release("d3", {})):
        folder.write_release(release, {"release": release.name})
    folder.point("live", "d2")
    folder.prune(["d2"])
    assert sorted(p.name for p in (tmp_path / "releases").iterdir()) == ["d2"]
    assert (tmp_path / "live/release").read_text() == "d2"  # the live link still resolves


class RecordingAdmin:
    """Stands in for Caddy's admin API: records the configs it is asked to load."""

    def __init__(self) -> None:
        self.configs: list[Mapping[str, Any]] = []

    def ensure(self, config: Mapping[str, Any]) -> bool:
        self.configs.append(config)
        return True


def test_the_switch_back_points_users_at_the_previous_release(tmp_path: Path) -> None:
    folder = RoutesFolder(tmp_path)
    routes = ProxyRoutes(folder, RecordingAdmin(), (RouteSpec("web", 8080),), grace=1)  # type: ignore[arg-type]
    routes.stage(D1, None, serving=False)
    routes.switch("d1")
    routes.stage(D2, D1, serving=True)
    routes.switch("d2")
    assert folder.live() == D2
    routing = RoutingOutput("p", "127.0.0.1:8080", D2, (), (), ())
    cutover = Cutover(CutoverPolicy(HealthPolicy()), tmp_path, clock=lambda: 100.0)
    lines: list[str] = []
    report = cutover._switch_back(routing, routes, D1, (99.0, "HTTP 500"), 70.0, lines.append)
    assert folder.live() == D1
    assert "users are back on release d1" in report.summary and not report.healthy
    assert "switched back to release d1 1.00 s after the failure" in lines[-1]
    # The live release got the candidate's second slot: both fit the one loaded config.
    assert (tmp_path / "releases/d1/web.1").read_text() == "10.0.0.1:8080"


def test_a_routes_folder_the_service_may_not_create_names_the_chown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As the deploy service's uid 10001 under a root-owned binds folder (simulated: these
    tests may run as root, who may write anywhere)."""

    def refuse(self: Path, *args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "mkdir", refuse)
    with pytest.raises(RoutesFolderError) as error:
        RoutesFolder(tmp_path / "binds/proxy-p").create()
    assert "cannot be created by this service" in str(error.value)
    assert f"chown -R {os.getuid()} {tmp_path / 'binds'}`" in str(error.value)
