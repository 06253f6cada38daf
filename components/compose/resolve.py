"""Follow `extends` the way Docker Compose does and compute a service's effective value.

Pure apart from reading the extended files through the `load` callable it is given.
Paths: `extends.file` in a project (`-f`) file resolves against the project directory;
in an extended file against that file's directory, like every relative path in it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ruamel.yaml.comments import CommentedMap, CommentedSeq, TaggedScalar

from .paths import rebase, rebase_volume
from .rules import Merge, entry_key, keyed_to_mapping, normal_form, rule_for
from .yaml_source import MigrationError, Source, own_value

_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)")


def interpolate(text: str, env: Mapping[str, str]) -> str:
    """Compose-style `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `$VAR` (for paths)."""

    def sub(match: re.Match) -> str:
        name = match.group(1) or match.group(4)
        op, default = match.group(2), match.group(3) or ""
        value = env.get(name)
        if op == ":-" and not value:
            return default
        if op == "-" and value is None:
            return default
        return value or ""

    return _VAR.sub(sub, text.replace("$$", "\0")).replace("\0", "$")


def read_dotenv(directory: Path) -> dict[str, str]:
    """The project's `.env` (KEY=VALUE lines), as Compose reads it for interpolation."""
    path = directory / ".env"
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, value = line.removeprefix("export ").split("=", 1)
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key.strip()] = value
    return values


@dataclass(frozen=True)
class ServiceRef:
    """A service in a file, with the directory its relative paths resolve against."""

    source: Source
    name: str
    path_dir: Path
    in_project: bool  # a `-f` file (its extends.file resolves against the project dir)


def plain(value: object) -> object:
    """A deep copy without comments, anchors or merge keys (merged keys made explicit)."""
    if isinstance(value, dict):
        out = CommentedMap()
        for k, v in value.items():
            out[k] = plain(v)
        return out
    if isinstance(value, list):
        return CommentedSeq(plain(v) for v in value)
    return value


def is_tagged(value: object, tag: str) -> bool:
    found = getattr(value, "tag", None)
    return found is not None and str(getattr(found, "value", found)) == tag


@dataclass
class Resolver:
    """Finds bases and computes effective (extends-resolved) service values."""

    project_dir: Path
    env: Mapping[str, str]
    load: Callable[[Path], Source]
    _cache: dict = field(default_factory=dict)

    def base_of(self, ref: ServiceRef) -> ServiceRef | None:
        """The service `ref` extends, or None; errors name file, service and line."""
        key = ("base", id(ref.source), ref.name, ref.path_dir, ref.in_project)
        if key not in self._cache:
            self._cache[key] = self._find_base(ref)
        return self._cache[key]

    def _find_base(self, ref: ServiceRef) -> ServiceRef | None:
        service = ref.source.services().get(ref.name)
        if not isinstance(service, dict) or "extends" not in service:
            return None
        extends = service["extends"]
        if isinstance(extends, str):
            name, file = extends, None
        elif isinstance(extends, dict) and isinstance(extends.get("service"), str):
            name, file = extends["service"], extends.get("file")
        else:
            raise MigrationError(
                "`extends` must be a service name or a mapping with `service` (and `file`)",
                file=ref.source.path,
                service=ref.name,
                line=_extends_line(ref),
            )
        if file is None:
            target, path_dir, in_project = ref.source, ref.path_dir, ref.in_project
        else:
            anchor_dir = self.project_dir if ref.in_project else ref.source.directory
            path = (anchor_dir / interpolate(str(file), self.env)).resolve()
            if not path.is_file():
                raise MigrationError(
                    f"extends.file {file!r} not found (looked for {path}); fix the path",
                    file=ref.source.path,
                    service=ref.name,
                    line=_extends_line(ref),
                )
            target, path_dir, in_project = self.load(path), path.parent, False
        if not isinstance(target.services().get(name), dict):
            raise MigrationError(
                f"extends base service {name!r} is not defined in {target.path}; "
                "add it or fix `extends.service`",
                file=ref.source.path,
                service=ref.name,
                line=_extends_line(ref),
            )
        return ServiceRef(target, name, path_dir, in_project)

    def effective(self, ref: ServiceRef, _stack: tuple = ()) -> CommentedMap:
        """The service as Compose sees it after `extends`, paths relative to the project."""
        key = (ref.source.path, ref.name, ref.path_dir)
        if key in _stack:
            chain = " -> ".join(n for _, n, _ in (*_stack, key))
            raise MigrationError(
                f"`extends` cycle: {chain}; break the cycle",
                file=ref.source.path,
                service=ref.name,
                line=_extends_line(ref),
            )
        if key in self._cache:
            return plain(self._cache[key])  # type: ignore[return-value]
        own = plain(ref.source.services()[ref.name])
        own.pop("extends", None)
        rebase_service(own, ref.path_dir, self.project_dir)
        base = self.base_of(ref)
        result = own if base is None else merge_service(self.effective(base, (*_stack, key)), own)
        self._cache[key] = result
        return plain(result)  # type: ignore[return-value]


def _extends_line(ref: ServiceRef) -> int | None:
    found = ref.source.service_node(ref.name)
    if found is None:
        return None
    entry = own_value(found[1], "extends")
    return (entry[0] if entry else found[0]).start_mark.line + 1


def _same_type(value: object, like: object) -> object:
    return type(like)(value) if isinstance(like, str) and type(like) is not str else value


def rebase_service(service: dict, from_dir: Path, to_dir: Path) -> None:
    """Rewrite relative paths (build context, env_file, bind mounts) in place."""
    if from_dir == to_dir:
        return

    def moved(value: object) -> object:
        return _same_type(rebase(str(value), from_dir, to_dir), value)

    build = service.get("build")
    if isinstance(build, str):
        service["build"] = _same_type(rebase(build, from_dir, to_dir), build)
    elif isinstance(build, dict):
        context = build.get("context", ".")
        build["context"] = _same_type(rebase(str(context), from_dir, to_dir), context)
    for key in ("env_file", "label_file"):
        value = service.get(key)
        if isinstance(value, str):
            service[key] = _same_type(rebase(value, from_dir, to_dir), value)
        elif isinstance(value, list):
            for i, item in enumerate(value):
                if isinstance(item, str):
                    value[i] = _same_type(rebase(item, from_dir, to_dir), item)
                elif isinstance(item, dict) and "path" in item:
                    item["path"] = moved(item["path"])
    volumes = service.get("volumes")
    if isinstance(volumes, list):
        for i, item in enumerate(volumes):
            if isinstance(item, str):
                volumes[i] = _same_type(rebase_volume(item, from_dir, to_dir), item)
            elif isinstance(item, dict) and item.get("type") == "bind" and "source" in item:
                item["source"] = moved(item["source"])


def merge_service(base: dict, child: dict) -> CommentedMap:
    """Compose's `extends` merge of two service mappings (see rules.py)."""
    return merge_mapping(base, child, ())


# KEYED keys whose entries carry settings: a bare list entry (`- front`) adds nothing.
_ENTRIES_WITH_SETTINGS = {("networks",), ("depends_on",)}


def merge_mapping(base: dict, child: dict, path: tuple[str, ...]) -> CommentedMap:
    result = CommentedMap((k, plain(v)) for k, v in base.items())
    for key, value in child.items():
        if is_tagged(value, "!reset"):
            result.pop(key, None)
        elif value is None and key in base and path in _ENTRIES_WITH_SETTINGS:
            continue
        elif key in base and not is_tagged(value, "!override"):
            result[key] = merge_value(base[key], value, (*path, str(key)))
        else:
            result[key] = plain(value)
    return result


def merge_value(base: object, child: object, path: tuple[str, ...]) -> object:
    """Merge one key's base and child values according to its rule."""
    rule = rule_for(path, child)
    if rule.merge is Merge.REPLACE or child is None or isinstance(child, TaggedScalar):
        return plain(child)
    base, child = normal_form(path, base), normal_form(path, child)
    if rule.merge is Merge.KEYED:
        if isinstance(base, list) and isinstance(child, list):
            child_keys = {entry_key(item) for item in child}
            kept = [item for item in base if entry_key(item) not in child_keys]
            return CommentedSeq([*plain(kept), *plain(child)])
        if isinstance(base, dict | list) and isinstance(child, dict | list):
            return merge_mapping(keyed_mapping(base, path), keyed_mapping(child, path), path)
        return plain(child)
    if isinstance(base, dict) and isinstance(child, dict):
        driver = base.get("driver")
        if path == ("logging",) and driver and child.get("driver") not in (None, driver):
            return plain(child)  # another logging driver: its options start afresh
        return merge_mapping(base, child, path)
    if isinstance(base, list) and isinstance(child, list):
        if path == ("volumes",):
            # Compose drops a child entry equal to a base entry (the base one stays where
            # it is), then the last entry per target wins.
            return CommentedSeq([*plain(base), *plain([c for c in child if c not in base])])
        return CommentedSeq([*plain(base), *plain(child)])
    return plain(child)


def keyed_mapping(value: object, path: tuple[str, ...]) -> dict:
    """A KEYED value in mapping form, with list-form depends_on entries made explicit."""
    mapping = keyed_to_mapping(value)
    if path == ("depends_on",) and isinstance(value, list):
        return {k: CommentedMap(condition="service_started") for k in mapping}
    return mapping


def service_refs(source: Source, project_dir: Path) -> list[ServiceRef]:
    """Every service of a project file, as references for the resolver."""
    return [ServiceRef(source, str(name), project_dir, True) for name in source.services()]


def project_env(project_dir: Path) -> dict[str, str]:
    """Variables Compose interpolates with: the project's `.env`, then the environment."""
    return {**read_dotenv(project_dir), **os.environ}
