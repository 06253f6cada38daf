"""Where things are: the repository, the Node test tools, our tool cache, the Compose corpus."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
TOOLS_DIR = REPO_ROOT / "tools" / "node_modules"
# Where scripts/toolchain.sh and scripts/docker-engine.sh keep what they build and run.
CACHE_DIR = Path(os.environ.get("SLIPWAY_CACHE_DIR", Path.home() / ".cache" / "slipway"))


def _shared_dir() -> Path:
    return Path(os.environ.get("SLIPWAY_SHARED_DIR", REPO_ROOT.parent / "shared")).resolve()


CORPUS_DIR = _shared_dir() / "corpus" / "compose-real"


def corpus_entries() -> list:
    """The corpus manifest's entries as test parameters; one placeholder when it is absent."""
    manifest = CORPUS_DIR / "manifest.json"
    if not manifest.is_file():  # the corpus_dir fixture skips (or fails) with the reason
        return [pytest.param(None, id="corpus-missing")]
    entries = json.loads(manifest.read_text())
    return [pytest.param(e, id=f"{e['dir']}:{'+'.join(e['main'])}") for e in entries]
