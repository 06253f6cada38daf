"""A Compose file as text, as data and as a node tree with positions.

The migrated file is edited as text (insertions and small replacements at node
positions), so everything the planner does not touch stays byte for byte: comments,
quoting, indentation, `${VAR:-default}`. yamlnodes.py gives both views of the same text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .yamlnodes import (
    MERGE_TAG,
    MappingNode,
    Mark,
    Node,
    ScalarNode,
    SequenceNode,
    YAMLSyntaxError,
    compose,
    construct,
)

__all__ = ["MERGE_TAG", "MigrationError", "Source", "load_source"]


class MigrationError(Exception):
    """A problem with the input that stops the migration; names file, service and line."""

    def __init__(
        self, message: str, *, file: Path, service: str | None = None, line: int | None = None
    ) -> None:
        self.file, self.service, self.line = file, service, line
        where = str(file) + (f":{line}" if line else "")
        who = f" service {service!r}:" if service else ""
        super().__init__(f"{where}:{who} {message}")


@dataclass
class Source:
    """One loaded Compose file."""

    path: Path
    text: str
    data: dict
    root: MappingNode
    defining_key: dict[int, ScalarNode] = field(default_factory=dict)
    anchors: set[str] = field(default_factory=set)
    redefined_anchors: set[str] = field(default_factory=set)
    _service_nodes: dict | None = field(default=None, repr=False)

    @property
    def directory(self) -> Path:
        return self.path.parent

    def services(self) -> dict:
        services = self.data.get("services") if isinstance(self.data, dict) else None
        return services if isinstance(services, dict) else {}

    def service_node(self, name: str) -> tuple[ScalarNode, MappingNode] | None:
        """The (key node, mapping node) of a service written in this file."""
        if self._service_nodes is None:
            self._service_nodes = {}
            services = own_value(self.root, "services")
            if services is not None and isinstance(services[1], MappingNode):
                for key, value in services[1].value:
                    if isinstance(value, MappingNode) and key.tag != MERGE_TAG:
                        self._service_nodes.setdefault(str(key.value), (key, value))
        return self._service_nodes.get(name)


def services_using_extends(source: Source) -> list[str]:
    """Names of the file's services that still have `extends`, sorted."""
    return sorted(n for n, s in source.services().items() if isinstance(s, dict) and "extends" in s)


def load_source(path: Path, text: str | None = None) -> Source:
    """Parse `path`; invalid YAML raises MigrationError with the line."""
    if text is None:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise MigrationError(f"cannot read the file: {exc.strerror}", file=path) from exc
    try:
        root, redefined = compose(text)
    except YAMLSyntaxError as exc:
        raise MigrationError(
            f"invalid YAML: {exc.problem}; fix the syntax and run again", file=path, line=exc.line
        ) from exc
    if root is None:
        root = MappingNode("tag:yaml.org,2002:map", Mark(0, 0, 0), Mark(0, 0, 0))
    if not isinstance(root, MappingNode):
        raise MigrationError("not a Compose file: the top level is not a mapping", file=path)
    data = construct(root)
    source = Source(path=path, text=text, data=data, root=root, redefined_anchors=redefined)
    _index(source.root, None, source, set())
    return source


def _index(node: Node, key: ScalarNode | None, source: Source, seen: set[int]) -> None:
    """Record, for every node at its definition, the key it is the value of; and anchors."""
    if id(node) in seen:
        return
    seen.add(id(node))
    if node.anchor:
        source.anchors.add(str(node.anchor))
    if key is not None:
        source.defining_key[id(node)] = key
    if isinstance(node, MappingNode):
        for k, v in node.value:
            _index(v, k, source, seen)
    elif isinstance(node, SequenceNode):
        for item in node.value:
            _index(item, None, source, seen)


def own_value(mapping: MappingNode, key: str) -> tuple[ScalarNode, Node] | None:
    """The (key node, value node) written in `mapping` itself (merge keys excluded)."""
    for k, v in mapping.value:
        if k.tag != MERGE_TAG and isinstance(k, ScalarNode) and k.value == key:
            return k, v
    return None


def merge_entry(mapping: MappingNode) -> tuple[ScalarNode, Node] | None:
    """The `<<` entry of a mapping, if any."""
    for k, v in mapping.value:
        if k.tag == MERGE_TAG:
            return k, v
    return None


def merged_value(mapping: MappingNode, key: str) -> Node | None:
    """The value node for `key`: written in the mapping or taken from its merge keys."""
    found = own_value(mapping, key)
    if found is not None:
        return found[1]
    entry = merge_entry(mapping)
    if entry is None:
        return None
    sources = entry[1].value if isinstance(entry[1], SequenceNode) else [entry[1]]
    for src in sources:
        if isinstance(src, MappingNode):
            value = merged_value(src, key)
            if value is not None:
                return value
    return None


def end_index(node: Node) -> int:
    """Where the node's own text ends (block collections end at their last leaf)."""
    if isinstance(node, ScalarNode) or getattr(node, "flow_style", False) or not node.value:
        return node.end_mark.index
    last = node.value[-1]
    return end_index(last[1] if isinstance(node, MappingNode) else last)


def line_start(text: str, index: int) -> int:
    return text.rfind("\n", 0, index) + 1
