"""A YAML node tree with positions and anchors, built fast from libyaml's events.

The migration edits text at node positions, so it needs every node's start and end,
its style and its anchor name. ruamel.yaml's pure-Python parser gives all that but is
slow on large files (seconds for 1,000 services); PyYAML's libyaml parser emits the same
events in C. The constructed data uses ruamel.yaml's round-trip types (quoted-string
classes, tagged scalars) so that copied values are rendered as they were written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import yaml
from ruamel.yaml.comments import CommentedMap, CommentedSeq, TaggedScalar
from ruamel.yaml.scalarstring import (
    DoubleQuotedScalarString,
    FoldedScalarString,
    LiteralScalarString,
    SingleQuotedScalarString,
)
from ruamel.yaml.tag import Tag

MERGE_TAG = "tag:yaml.org,2002:merge"
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class Mark:
    index: int
    line: int
    column: int


@dataclass(eq=False)
class Node:
    tag: str | None
    start_mark: Mark
    end_mark: Mark
    anchor: str | None = None


@dataclass(eq=False)
class ScalarNode(Node):
    value: str = ""
    style: str | None = None


@dataclass(eq=False)
class SequenceNode(Node):
    value: list[Node] = field(default_factory=list)
    flow_style: bool = False


@dataclass(eq=False)
class MappingNode(Node):
    value: list[tuple[ScalarNode, Node]] = field(default_factory=list)
    flow_style: bool = False


class YAMLSyntaxError(Exception):
    def __init__(self, problem: str, line: int | None) -> None:
        super().__init__(problem)
        self.problem, self.line = problem, line


def _mark(mark: yaml.Mark) -> Mark:
    return Mark(mark.index, mark.line, mark.column)


def compose(text: str) -> tuple[Node | None, set[str]]:
    """The first document's node tree (aliases are the anchored node itself) and the
    anchor names defined more than once."""
    anchors: dict[str, Node] = {}
    redefined: set[str] = set()
    stack: list[Node] = []
    pending_key: list[Node | None] = []
    root: Node | None = None

    def attach(node: Node) -> None:
        nonlocal root
        if not stack:
            root = root or node
            return
        parent = stack[-1]
        if isinstance(parent, SequenceNode):
            parent.value.append(node)
        elif pending_key[-1] is None:
            if isinstance(node, ScalarNode) and node.value == "<<" and not node.style:
                node.tag = MERGE_TAG
            pending_key[-1] = node
        else:
            parent.value.append((pending_key[-1], node))  # type: ignore[arg-type]
            pending_key[-1] = None

    def remember(node: Node) -> None:
        if node.anchor:
            if node.anchor in anchors:
                redefined.add(node.anchor)
            anchors[node.anchor] = node

    try:
        for event in yaml.parse(text, Loader=_Loader):
            if isinstance(event, yaml.DocumentEndEvent) and root is not None:
                break
            if isinstance(event, yaml.ScalarEvent):
                node = ScalarNode(
                    event.tag,
                    _mark(event.start_mark),
                    _mark(event.end_mark),
                    event.anchor,
                    event.value,
                    event.style or None,
                )
                remember(node)
                attach(node)
            elif isinstance(event, yaml.AliasEvent):
                if event.anchor not in anchors:
                    raise YAMLSyntaxError(
                        f"unknown anchor {event.anchor!r}", event.start_mark.line + 1
                    )
                attach(anchors[event.anchor])
            elif isinstance(event, yaml.SequenceStartEvent | yaml.MappingStartEvent):
                cls = SequenceNode if isinstance(event, yaml.SequenceStartEvent) else MappingNode
                node = cls(
                    event.tag,
                    _mark(event.start_mark),
                    _mark(event.end_mark),
                    event.anchor,
                    flow_style=bool(event.flow_style),
                )
                remember(node)
                attach(node)
                stack.append(node)
                pending_key.append(None)
            elif isinstance(event, yaml.SequenceEndEvent | yaml.MappingEndEvent):
                node = stack.pop()
                pending_key.pop()
                node.end_mark = _mark(event.end_mark)
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else None
        raise YAMLSyntaxError(str(exc.problem or exc.context), line) from exc
    return root, redefined


_NULL = re.compile(r"^(?:~|null|Null|NULL|)$")
_BOOL = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")
_INT = re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$")
_FLOAT = re.compile(
    r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
)
_STYLES = {
    '"': DoubleQuotedScalarString,
    "'": SingleQuotedScalarString,
    "|": LiteralScalarString,
    ">": FoldedScalarString,
}


def _scalar(node: ScalarNode) -> object:
    if node.tag and node.tag.startswith("!") and not node.tag.startswith("!!"):
        return TaggedScalar(node.value, node.style, Tag(suffix=node.tag))
    if node.style:
        return _STYLES[node.style](node.value)
    if node.tag == "tag:yaml.org,2002:str":
        return node.value
    text = node.value
    if _NULL.match(text):
        return None
    if _BOOL.match(text):
        return text.lower() == "true"
    if _INT.match(text):
        return int(text, 0) if text[:2] in ("0o", "0x") else int(text)
    if _FLOAT.match(text) and not text.lstrip("+-").isdigit():
        return float(text.replace("inf", "Inf").replace("INF", "Inf").replace("Inf", "inf"))
    return text


def construct(node: Node, _memo: dict | None = None) -> object:
    """Plain data for a node tree: merge keys resolved (written keys win), custom tags
    such as `!reset` kept (scalars as TaggedScalar, collections with a ctag)."""
    memo = {} if _memo is None else _memo
    if id(node) in memo:
        return memo[id(node)]
    if isinstance(node, ScalarNode):
        return _scalar(node)
    if isinstance(node, SequenceNode):
        seq = CommentedSeq()
        memo[id(node)] = seq
        seq.extend(construct(item, memo) for item in node.value)
        _tag(seq, node)
        return seq
    mapping = CommentedMap()
    memo[id(node)] = mapping
    merged: list[CommentedMap] = []
    for key, value in node.value:
        if key.tag == MERGE_TAG:
            sources = value.value if isinstance(value, SequenceNode) else [value]
            merged.extend(construct(s, memo) for s in sources)  # type: ignore[misc]
        else:
            mapping[construct(key, memo)] = construct(value, memo)
    for source in merged:
        for k, v in source.items():
            if k not in mapping:
                mapping[k] = v
    _tag(mapping, node)
    return mapping


def _tag(value: CommentedMap | CommentedSeq, node: Node) -> None:
    if node.tag and node.tag.startswith("!") and not node.tag.startswith("!!"):
        value.yaml_set_ctag(Tag(suffix=node.tag))
