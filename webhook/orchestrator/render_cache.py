"""Docker Compose's resolved model of a stack, reused while what Compose reads is unchanged.

`docker compose config` costs 0.15 to 0.7 s (a Go program that starts, reads and resolves),
and a push that changes nothing the stack deploys asks it the same question again. Its
answer is kept (per process, the newest `SIZE`) under a key over everything Compose reads
to give it: the command (project, profiles, the files' paths), the environment it gets,
the content of each Compose file, of the `.env` files it may read (the project folder's,
the working folder's), and of every file the Compose files name through `include`,
`extends`, `env_file` and `label_file` (followed into included and extended files). A file
named through a variable (`${...}`) or remote (an `oci://` or git `include`), or a Compose
file that does not parse as expected, has no key: Compose renders it every time. Used by
fingerprint.py, and to hand the answers to the program (render_handoff.py,
components/compose_stack/handed_render.py).
"""

from __future__ import annotations

import copy
import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

SIZE = 32
_MAX_DEPTH = 8  # include/extends chains followed; deeper: no key
_models: OrderedDict[str, dict] = OrderedDict()
_lock = threading.Lock()
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _NoKey(Exception):
    """What Compose reads cannot be known without Compose."""


def cached_model(
    files: Sequence[Path],
    *,
    project: str,
    profiles: Sequence[str],
    env: Mapping[str, str],
    command: Sequence[str],
    render: Callable[[], dict],
) -> dict:
    """`render()` (Compose's model of `files`), or a copy of its earlier answer for the same
    inputs. `command` is the Compose command (its version is part of the answer)."""
    return cached_render(
        files, project=project, profiles=profiles, env=env, command=command, render=render
    )[1]


def cached_render(
    files: Sequence[Path],
    *,
    project: str,
    profiles: Sequence[str],
    env: Mapping[str, str],
    command: Sequence[str],
    render: Callable[[], dict],
) -> tuple[str | None, dict]:
    """(the render key, `cached_model`'s answer); the key is None when it cannot be known."""
    key = render_key(files, project=project, profiles=profiles, env=env, command=command)
    return key, _kept(key, render)


def cached_under(key: str, render: Callable[[], dict]) -> dict:
    """`render()`, or its earlier answer under `key` (another answer of Compose for the
    same inputs, e.g. `key + " hashes"`: `config --hash`)."""
    return _kept(key, render)


def _kept(key: str | None, render: Callable[[], dict]) -> dict:
    if key is not None:
        with _lock:
            found = _models.get(key)
            if found is not None:
                _models.move_to_end(key)
                return copy.deepcopy(found)
    model = render()
    if key is not None:
        with _lock:
            _models[key] = copy.deepcopy(model)
            while len(_models) > SIZE:
                _models.popitem(last=False)
    return model


def render_key(
    files: Sequence[Path],
    *,
    project: str,
    profiles: Sequence[str],
    env: Mapping[str, str],
    command: Sequence[str],
    cwd: Path | None = None,
) -> str | None:
    """SHA-256 over what `docker compose config` reads for these inputs, run in `cwd`
    (None: this process's working folder); None when that cannot be known without running
    it."""
    if not files:
        return None
    digest = hashlib.sha256()
    head = {"command": list(command), "project": project, "profiles": list(profiles)}
    digest.update(json.dumps(head, sort_keys=True).encode())
    digest.update(json.dumps(sorted(env.items())).encode())
    project_dir = Path(files[0]).parent
    read = [project_dir / ".env", (cwd or Path.cwd()) / ".env"]
    try:
        read.extend(_read_files([Path(f) for f in files], project_dir))
    except _NoKey:
        return None
    for path in read:
        digest.update(f"\0{path}\0".encode())
        try:
            digest.update(path.read_bytes())
        except FileNotFoundError:
            digest.update(b"\0missing")
        except OSError:
            return None
    return digest.hexdigest()


def _read_files(files: list[Path], project_dir: Path) -> list[Path]:
    """The Compose files and every file they name (in a stable order)."""
    seen: list[Path] = []
    parsed: set[Path] = set()
    pending = [(f, 0) for f in files]
    while pending:
        path, depth = pending.pop(0)
        if path in parsed:
            continue
        if depth > _MAX_DEPTH:
            raise _NoKey
        parsed.add(path)
        if path not in seen:
            seen.append(path)
        if not path.is_file():
            continue
        try:
            document = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
            raise _NoKey from error
        for named, compose_file in _named(document):
            for base in dict.fromkeys((path.parent, project_dir)):
                target = Path(named) if Path(named).is_absolute() else base / named
                if compose_file:
                    pending.append((target, depth + 1))
                elif target not in seen:
                    seen.append(target)
    return seen


def _named(document: Any) -> Iterator[tuple[str, bool]]:
    """(path, is a Compose file) for each file a Compose document names."""
    if document is None:
        return
    if not isinstance(document, dict):
        raise _NoKey
    for entry in _as_list(document.get("include")):
        if isinstance(entry, str):
            yield _plain(entry), True
        elif isinstance(entry, dict):
            yield from ((_plain(p), True) for p in _as_list(entry.get("path")))
            yield from ((_plain(p), False) for p in _as_list(entry.get("env_file")))
            if entry.get("project_directory") is not None:
                raise _NoKey  # its own .env and relative paths: let Compose say
        else:
            raise _NoKey
    services = document.get("services") or {}
    if not isinstance(services, dict):
        raise _NoKey
    for service in services.values():
        if not isinstance(service, dict):
            raise _NoKey
        extends = service.get("extends")
        if isinstance(extends, dict) and extends.get("file") is not None:
            yield _plain(extends["file"]), True
        for name in ("env_file", "label_file"):
            for item in _as_list(service.get(name)):
                named = item.get("path") if isinstance(item, dict) else item
                yield _plain(named), False


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _plain(value: Any) -> str:
    """A path as written, when it needs no interpolation and names a local file (a remote
    `include` (`oci://`, `git@…`, `https://…`) can change without any file here changing)."""
    if not isinstance(value, str) or "$" in value or "://" in value or value.startswith("git@"):
        raise _NoKey
    return value


def clear() -> None:
    """Forget every kept model (tests)."""
    with _lock:
        _models.clear()
