"""Which Compose keys the cases exercise, against support.py's "translated" keys (pure).

A translated key is compared on the real engine when some case file uses it; the few this
engine cannot run are in NOT_EXERCISED with the reason (and the measured behaviour, when
one was measured by hand).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from components.compose_stack.support import ALL_TABLES, Support

# Cases compared on the real engine: files (relative to the copy), `up --wait` or not.
CASES: dict[str, tuple[list[str], bool]] = {
    "settings": (["case/settings.yml"], True),
    "storage": (["case/storage.yml"], True),
    "network": (["case/network.yml"], False),
    "demo": (["stacks/demo/compose.yml"], True),
}

NOT_EXERCISED: dict[str, str] = {
    "service.privileged": "this engine's VM refuses to apply every capability (runc: unable to "
    "apply caps), for `docker run --privileged` as well",
    "service.gpus": "no GPU on this engine",
    "service.storage_opt": "overlay2 on ext4 has no per-container size option",
}

_SECTIONS = {
    "service": "services",
    "network": "networks",
    "volume": "volumes",
}


def translated_keys() -> set[str]:
    """`<table>.<key>` of every key support.py translates (`service.ports`, ...)."""
    names = {
        "top-level": "top",
        "service": "service",
        "service `build`": "build",
        "service `deploy`": "deploy",
        "network": "network",
        "volume": "volume",
    }
    return {
        f"{names[title]}.{key}"
        for title, table in ALL_TABLES.items()
        for key, rule in table.items()
        if rule.support is Support.TRANSLATED
    }


def used_keys(document: Mapping[str, Any]) -> set[str]:
    """The `<table>.<key>` keys a Compose document uses."""
    out = {f"top.{k}" for k in document}
    for table, section in _SECTIONS.items():
        for spec in (document.get(section) or {}).values():
            for key, value in (spec or {}).items():
                out.add(f"{table}.{key}")
                if table == "service" and key in ("build", "deploy") and isinstance(value, dict):
                    out.update(f"{key}.{k}" for k in value)
    return out


def forms(document: Mapping[str, Any]) -> set[str]:
    """Distinct key paths with the shape of their value (`services.*.ports[str]`, ...):
    short and long syntax of one key count as two forms."""

    def walk(value: Any, path: str) -> Iterator[str]:
        if isinstance(value, Mapping):
            for key, item in value.items():
                yield from walk(item, f"{path}.{key}")
        elif isinstance(value, list):
            for item in value:
                yield from walk(item, f"{path}[]")
        else:
            yield f"{path}:{type(value).__name__}"

    out = set()
    for section in ("services", "networks", "volumes", "secrets", "configs"):
        for spec in (document.get(section) or {}).values():
            out.update(walk(spec, section))
    return out


def load(path: Path) -> dict:
    return YAML(typ="safe").load(path.read_text())


def case_documents(root: Path) -> dict[str, dict]:
    """Each case's files, loaded (`root` is the repository or a copy of it with `case/`)."""
    out = {}
    for case, (files, _) in CASES.items():
        for f in files:
            path = root / f if not f.startswith("case/") else root / "tests/fidelity/cases" / f[5:]
            out[f"{case}:{f}"] = load(path)
    return out
