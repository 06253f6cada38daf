"""Render small YAML fragments (items, entries, values, `x-` blocks) with ruamel.yaml."""

from __future__ import annotations

import functools
import io
import json
import re

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import DoubleQuotedScalarString, SingleQuotedScalarString


def _yaml(flow: bool = False) -> YAML:
    yaml = YAML()
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=2, offset=0)
    if flow:
        yaml.default_flow_style = True
    return yaml


def dump(value: object, flow: bool = False) -> str:
    stream = io.StringIO()
    _yaml(flow).dump(value, stream)
    text = stream.getvalue()
    return text.removesuffix("...\n")


def block_items(items: list, indent: int) -> str:
    """`- item` lines at `indent` columns (the child sequence's dash column)."""
    if not items:
        return ""
    if all(isinstance(i, str | int | float) and not isinstance(i, bool) for i in items):
        text = "".join(_scalar_item(type(i), i) for i in items)
    else:
        text = dump(CommentedSeq(items))
    pad = " " * indent
    return "".join(pad + line + "\n" for line in text.splitlines())


_SAFE_PLAIN = re.compile(r"^[A-Za-z0-9_/$.{][A-Za-z0-9_./:${}@=,+%-]*$")
_NOT_A_STRING = re.compile(r"^(?:[-+.0-9][-+.0-9eE_xo]*|true|false|null|~|yes|no|on|off)$", re.I)


def _scalar_item(kind: type, value: str | int | float) -> str:
    """`- value`, written directly for the common cases (ruamel for the rest)."""
    if kind is int:
        return f"- {value}\n"
    if kind is DoubleQuotedScalarString and str(value).isprintable():
        return "- " + json.dumps(str(value), ensure_ascii=False) + "\n"
    if kind is SingleQuotedScalarString and str(value).isprintable():
        return "- '" + str(value).replace("'", "''") + "'\n"
    text = str(value)
    plain = kind is str and _SAFE_PLAIN.match(text) and not _NOT_A_STRING.match(text)
    if plain and ": " not in text and not text.endswith(":"):
        return f"- {text}\n"
    return _dumped_item(kind, value)


@functools.lru_cache(maxsize=4096)
def _dumped_item(kind: type, value: str | int | float) -> str:
    return dump(CommentedSeq([value]))


def block_entries(entries: dict, indent: int) -> str:
    """`key: value` lines at `indent` columns."""
    if not entries:
        return ""
    text = dump(CommentedMap(entries))
    pad = " " * indent
    return "".join(pad + line + "\n" for line in text.splitlines())


def flow(value: object) -> str:
    """One-line flow form of a value (`{a: 1}`, `[x, y]`, scalar)."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{flow(k)}: {flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(flow(v) for v in value) + "]"
    return dump(CommentedSeq([value]), flow=True).strip()[1:-1].strip()


def x_fields(fields: list[tuple[str, str, CommentedMap]], indent: int = 2) -> str:
    """Top-level `x-name: &anchor` blocks, each under its comment (anchors already set
    on the values), indented like the file; one dump for all of them."""
    yaml = _yaml()
    yaml.indent(mapping=indent, sequence=indent + 2, offset=indent)
    combined = CommentedMap()
    for name, _, value in fields:
        combined[name] = value
    for name, comment, _ in fields:
        combined.yaml_set_comment_before_after_key(name, before=comment, indent=0)
    stream = io.StringIO()
    yaml.dump(combined, stream)
    return stream.getvalue()
