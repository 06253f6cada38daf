"""Fixtures of the deploy-service tests: the loopback "VPS" and the shared object store."""

from __future__ import annotations

import pytest

from tests.deploy_service.vps_lab import ObjectStore, VpsLab


@pytest.fixture(scope="session")
def vps_lab(tmp_path_factory: pytest.TempPathFactory):
    """A private loopback "VPS" (scripts/vps-lab.sh: sshd on a free port, `deploy` in the
    engine's group); `.env` is what `vps-lab.sh env` exports. Stopped afterwards."""
    lab = VpsLab.start(tmp_path_factory.mktemp("vps-lab"))
    yield lab
    stopped = lab.stop()
    assert stopped.returncode == 0, stopped.stderr


@pytest.fixture(scope="session")
def object_store(tmp_path_factory: pytest.TempPathFactory):
    """A private S3-compatible store (scripts/object-store.sh: moto_server on a free port,
    one bucket); `.env` is what `object-store.sh env` exports. Stopped afterwards."""
    store = ObjectStore.start(tmp_path_factory.mktemp("object-store"))
    yield store
    stopped = store.stop()
    assert stopped.returncode == 0, stopped.stderr
