"""Render small YAML fragments (items, entries, values, `x-` blocks) with ruamel.yaml."""

from __future__ import annotations

import io

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq


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
    text = dump(CommentedSeq(items))
    pad = " " * indent
    return "".join(pad + line + "\n" for line in text.splitlines())


def block_entries(entries: dict, indent: int) -> str:
    """`key: value` lines at `indent` columns."""
    if not entries:
        return ""
    text = dump(CommentedMap(entries))
    pad = " " * indent
    return "".join(pad + line + "\n" for line in text.splitlines())


def flow(value: object) -> str:
    """One-line flow form of a value (`{a: 1}`, `[x, y]`, scalar)."""
    if isinstance(value, dict | list):
        value = _flow_copy(value)
    return dump(CommentedSeq([value]), flow=True).strip()[1:-1].strip()


def _flow_copy(value: object) -> object:
    if isinstance(value, dict):
        out = CommentedMap((k, _flow_copy(v)) for k, v in value.items())
        out.fa.set_flow_style()
        return out
    if isinstance(value, list):
        seq = CommentedSeq(_flow_copy(v) for v in value)
        seq.fa.set_flow_style()
        return seq
    return value


def x_field(name: str, value: CommentedMap) -> str:
    """A top-level `x-name: &anchor` block (anchors already set on `value`)."""
    yaml = _yaml()
    yaml.indent(mapping=2, sequence=4, offset=2)
    stream = io.StringIO()
    yaml.dump(CommentedMap([(name, value)]), stream)
    return stream.getvalue()
