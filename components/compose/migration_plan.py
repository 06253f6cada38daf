"""Plan the migration of one file: text edits that replace `extends` by anchors (pure).

For every service with `extends` the planner
* replaces the `extends` entry by `<<: *base` (comments inside it are kept above),
* anchors the base: the base service itself when it is in the same file and written
  before the child, otherwise an `x-` copy of its effective definition (paths rebased),
* then, key by key, expresses what YAML's shallow merge would lose (rules.py): a nested
  `<<: *anchor` for mappings, the base items written before the child's for sequences,
  and the combined value written out when the two forms cannot be joined.
"""

from __future__ import annotations

import itertools
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from ruamel.yaml.comments import CommentedMap

from . import render
from .resolve import Resolver, ServiceRef, is_tagged, keyed_mapping, merge_value, plain
from .rules import ONE_OR_LIST, Merge, entry_key, rule_for
from .yaml_source import (
    MigrationError,
    Source,
    end_index,
    line_start,
    merge_entry,
    merged_value,
    own_value,
)
from .yamlnodes import MappingNode, Node, ScalarNode, SequenceNode

_COMMENT = re.compile(r"(?:^|\s)(#.*)$")
_ANCHOR_CHARS = re.compile(r"[^A-Za-z0-9_-]+")  # what every YAML parser accepts


@dataclass
class Edit:
    start: int
    end: int
    text: str
    order: int = 0


@dataclass
class WrittenOut:
    service: str
    key: str
    reason: str


@dataclass
class Summary:
    """What the migration of one file did."""

    services: list[str] = field(default_factory=list)
    anchors: list[str] = field(default_factory=list)
    x_fields: list[str] = field(default_factory=list)
    written_out: list[WrittenOut] = field(default_factory=list)


@dataclass
class Plan:
    source: Source
    edits: list[Edit]
    summary: Summary

    def apply(self) -> str:
        """The migrated text."""
        text = self.source.text
        edits = sorted(self.edits, key=lambda e: (e.start, e.order))
        for before, after in itertools.pairwise(edits):
            if after.start < before.end:
                raise MigrationError(
                    f"internal error: overlapping edits at offset {after.start}; please report",
                    file=self.source.path,
                )
        for edit in reversed(edits):
            text = text[: edit.start] + edit.text + text[edit.end :]
        return text


class _Provider:
    """Where a base value can be anchored: a node of the migrated file or an `x-` copy."""

    def anchor(self) -> str | None:
        raise NotImplementedError

    def sub(self, key: str) -> _Provider | None:
        raise NotImplementedError


@dataclass
class _NodeProvider(_Provider):
    planner: Planner
    node: Node
    fallback: _Provider | None
    hint: str

    def anchor(self) -> str | None:
        return self.planner.anchor_node(self.node, self.hint)

    def sub(self, key: str) -> _Provider | None:
        node = merged_value(self.node, key) if isinstance(self.node, MappingNode) else None
        fallback = self.fallback.sub(key) if self.fallback else None
        if node is None:
            return fallback
        return _NodeProvider(self.planner, node, fallback, f"{self.hint}-{key}")


@dataclass
class _CopyProvider(_Provider):
    planner: Planner
    value: object
    hint: str
    copy: tuple  # which `x-` copy this value is part of

    def anchor(self) -> str | None:
        if not isinstance(self.value, CommentedMap):
            return None
        self.planner.used_copies.add(self.copy)
        existing = self.value.yaml_anchor()
        if existing is not None:
            return existing.value
        name = self.planner.new_anchor(self.hint)
        self.value.yaml_set_anchor(name, always_dump=True)
        return name

    def sub(self, key: str) -> _Provider | None:
        if not isinstance(self.value, dict) or key not in self.value:
            return None
        return _CopyProvider(self.planner, self.value[key], f"{self.hint}-{key}", self.copy)


@dataclass
class Planner:
    """Builds the edits for one project file."""

    source: Source
    resolver: Resolver
    project_dir: Path
    edits: list[Edit] = field(default_factory=list)
    summary: Summary = field(default_factory=Summary)
    _used_anchors: set[str] = field(default_factory=set)
    _node_anchors: dict[int, str] = field(default_factory=dict)
    _copies: dict[tuple, tuple[str, CommentedMap]] = field(default_factory=dict)
    _service: str = ""
    _rewritten: list[tuple[int, int]] = field(default_factory=list)
    used_copies: set[tuple] = field(default_factory=set)

    # -- anchors -----------------------------------------------------------------
    def new_anchor(self, hint: str) -> str:
        base = _ANCHOR_CHARS.sub("-", hint).strip("-") or "base"
        name, n = base, 2
        while name in self.source.anchors or name in self._used_anchors:
            name, n = f"{base}-{n}", n + 1
        self._used_anchors.add(name)
        self.summary.anchors.append(name)
        return name

    def anchor_node(self, node: Node, hint: str) -> str | None:
        if node.anchor:
            # an anchor defined twice may mean another node where the alias is written
            return None if node.anchor in self.source.redefined_anchors else str(node.anchor)
        if id(node) in self._node_anchors:
            return self._node_anchors[id(node)]
        key = self.source.defining_key.get(id(node))
        if key is None or not isinstance(node, MappingNode):
            return None
        colon = self.source.text.index(":", key.end_mark.index) + 1
        if any(start <= colon <= end for start, end in self._rewritten):
            return None  # its text is being replaced by a value written in full
        name = self.new_anchor(hint)
        self._add(colon, colon, f" &{name}")
        self._node_anchors[id(node)] = name
        return name

    def _add(self, start: int, end: int, text: str) -> None:
        self.edits.append(Edit(start, end, text, len(self.edits)))

    # -- services ----------------------------------------------------------------
    def plan(self) -> Plan:
        for name in list(self.source.services()):
            ref = ServiceRef(self.source, str(name), self.project_dir, True)
            if self.resolver.base_of(ref) is not None:
                self._migrate_service(ref)
        self._insert_copies()
        return Plan(self.source, self.edits, self.summary)

    def _provider_for(self, child: ServiceRef, base: ServiceRef) -> _Provider:
        child_node = self.source.service_node(child.name)
        base_node = base.source.service_node(base.name) if base.source is self.source else None
        if (
            base_node is not None
            and child_node is not None
            and base_node[1].start_mark.index < child_node[1].start_mark.index
        ):
            grand = self.resolver.base_of(base)
            fallback = self._provider_for(base, grand) if grand else None
            return _NodeProvider(self, base_node[1], fallback, base.name)
        key = (base.source.path, base.name, base.path_dir)
        if key not in self._copies:
            value = self.resolver.effective(base)
            self._copies[key] = (self._x_name(base.name), value)
        _, value = self._copies[key]
        return _CopyProvider(self, value, base.name, key)

    def _x_name(self, service: str) -> str:
        taken = {str(k) for k in self.source.data} | {n for n, _ in self._copies.values()}
        name, n = f"x-{service}", 2
        while name in taken:
            name, n = f"x-{service}-{n}", n + 1
        return name

    def _migrate_service(self, ref: ServiceRef) -> None:
        self._service = ref.name
        base = self.resolver.base_of(ref)
        assert base is not None
        self.resolver.effective(ref)  # raises on cycles, named from this service
        base_value = self.resolver.effective(base)
        key_node, node = self.source.service_node(ref.name)  # type: ignore[misc]
        child = self.source.services()[ref.name]
        provider = self._provider_for(ref, base)
        resets = [k for k, v in child.items() if is_tagged(v, "!reset") and k in base_value]
        written = own_value(node, "extends")  # None when `extends` comes from a merge key
        if resets:
            # A merge key cannot take an inherited key away: write the base's other keys.
            missing = {k: v for k, v in base_value.items() if k not in child}
            if written:
                self._replace_extends(node, *written, None, missing)
            else:
                self._insert_entries(node, missing)
            self._written(str(key_node.value), "!reset removes an inherited key")
        elif written:
            self._replace_extends(node, *written, provider.anchor())
        for key, value in child.items():
            if key == "extends" or key not in base_value or is_tagged(value, "!override"):
                continue
            child_entry = own_value(node, str(key))
            if child_entry is None:
                continue  # comes from an existing merge key
            self._combine((str(key),), child_entry, value, base_value[key], provider.sub(str(key)))
        self.summary.services.append(ref.name)

    def _written(self, key: str, reason: str) -> None:
        self.summary.written_out.append(WrittenOut(self._service, key, reason))

    # -- the extends entry ---------------------------------------------------------
    def _replace_extends(
        self,
        node: MappingNode,
        key: ScalarNode,
        value: Node,
        anchor: str | None,
        entries: dict | None = None,
    ) -> None:
        text = self.source.text
        start, end = key.start_mark.index, end_index(value)
        comments = []
        for i, line in enumerate(text[start:end].split("\n")):
            found = _COMMENT.search(line if i else line[len("extends") :])
            if found:
                comments.append(found.group(1).rstrip())
        indent = " " * key.start_mark.column
        prefix = "".join(f"{c}\n{indent}" for c in comments)
        if entries:
            block = render.block_entries({k: plain(v) for k, v in entries.items()}, len(indent))
            self._add(start, end, prefix + block.strip(" ").removesuffix("\n"))
            return
        existing = merge_entry(node)
        if anchor is None or existing is not None:
            replacement = prefix.rstrip(" ")
            if not replacement:
                # drop the whole line, and its line break
                line_begin = line_start(text, start)
                if not text[line_begin:start].strip():
                    start = line_begin
                    end = end + 1 if text[end : end + 1] == "\n" else end
            self._add(start, end, replacement)
            if anchor is not None:
                self._extend_merge(node, existing, anchor)  # type: ignore[arg-type]
            return
        self._add(start, end, f"{prefix}<<: *{anchor}")

    def _extend_merge(self, node: MappingNode, entry: tuple[ScalarNode, Node], anchor: str) -> None:
        """`<<: *a` becomes `<<: [*a, *new]`: the mapping's own merges keep precedence."""
        key, value = entry
        sources = value.value if isinstance(value, SequenceNode) else [value]
        names = [str(s.anchor) for s in sources]
        text = self.source.text
        colon = text.index(":", key.end_mark.index) + 1
        stop = end_index(value) if isinstance(value, SequenceNode) else colon
        if not isinstance(value, SequenceNode):
            match = re.compile(r"\s*\*[^\s,\]}#]+").match(text, colon)
            stop = match.end() if match else colon
        aliases = ", ".join(f"*{n}" for n in [*names, anchor])
        self._add(colon, stop, f" [{aliases}]")

    # -- per-key combination ---------------------------------------------------------
    def _combine(
        self,
        path: tuple[str, ...],
        entry: tuple[ScalarNode, Node],
        child: object,
        base: object,
        provider: _Provider | None,
    ) -> None:
        key_node, node = entry
        rule = rule_for(path, child)
        if base is None:
            return  # nothing inherited: the child's value stands
        if rule.merge is Merge.REPLACE or isinstance(child, str | int | float | bool):
            if rule.merge is not Merge.REPLACE and (
                isinstance(base, dict | list) or path in ONE_OR_LIST
            ):
                self._write_value(path, entry, merge_value(base, child, path), "forms differ")
            return
        if child is None:
            self._write_value(path, entry, merge_value(base, child, path), "empty child value")
            return
        is_alias = self.source.defining_key.get(id(node)) is not key_node
        if is_alias:
            merged = merge_value(base, child, path)
            self._write_value(path, entry, merged, "child value is an alias")
            return
        if isinstance(child, dict) and isinstance(base, dict):
            self._combine_mappings(path, node, child, base, provider)
        elif isinstance(child, list) and isinstance(base, list):
            if rule.merge is Merge.KEYED:
                keys = {entry_key(i) for i in child}
                self._insert_items(node, [i for i in base if entry_key(i) not in keys])
            elif path == ("volumes",) and any(item in base for item in child):
                merged = merge_value(base, child, path)
                self._write_value(path, entry, merged, "child repeats a base volume")
            else:
                self._insert_items(node, list(base))
        elif rule.merge is Merge.KEYED and isinstance(child, dict) and isinstance(base, list):
            mapping = keyed_mapping(base, path)
            self._insert_entries(node, {k: v for k, v in mapping.items() if k not in child})
            self._written(".".join(path), "base list entries written as mapping entries")
        elif rule.merge is Merge.KEYED and isinstance(child, list) and isinstance(base, dict):
            if all(not isinstance(v, dict | list) for v in base.values()):
                keys = {entry_key(i) for i in child}
                items = [_entry_text(k, v) for k, v in base.items() if str(k) not in keys]
                self._insert_items(node, items)
                self._written(".".join(path), "base mapping entries written as list entries")
            else:
                self._write_value(path, entry, merge_value(base, child, path), "list vs mapping")
        else:
            self._write_value(path, entry, merge_value(base, child, path), "forms differ")

    def _combine_mappings(
        self,
        path: tuple[str, ...],
        node: MappingNode,
        child: dict,
        base: dict,
        provider: _Provider | None,
    ) -> None:
        anchor = provider.anchor() if provider else None
        if anchor is not None:
            existing = merge_entry(node)
            if existing is not None:
                self._extend_merge(node, existing, anchor)
            else:
                self._insert_merge(node, anchor)
        else:
            self._insert_entries(node, {k: v for k, v in base.items() if k not in child})
            self._written(".".join(path), "no anchorable base mapping")
        for key, value in child.items():
            if key not in base or is_tagged(value, "!override"):
                continue
            sub_entry = own_value(node, str(key))
            if sub_entry is None:
                continue
            sub_provider = provider.sub(str(key)) if provider else None
            self._combine((*path, str(key)), sub_entry, value, base[key], sub_provider)

    # -- text insertions ---------------------------------------------------------------
    def _insert_merge(self, node: MappingNode, anchor: str) -> None:
        self._insert_into_mapping(node, f"<<: *{anchor}\n", f"<<: *{anchor}")

    def _insert_entries(self, node: MappingNode, entries: dict) -> None:
        if not entries:
            return
        entries = {k: plain(v) for k, v in entries.items()}
        if node.flow_style or not node.value:
            inline = render.flow(CommentedMap(entries))[1:-1]
            self._insert_into_mapping(node, "", inline)
            return
        first = node.value[0][0]
        start = line_start(self.source.text, first.start_mark.index)
        self._add(start, start, render.block_entries(entries, first.start_mark.column))

    def _insert_into_mapping(self, node: MappingNode, block: str, inline: str) -> None:
        text = self.source.text
        if node.flow_style or not node.value:
            brace = text.index("{", node.start_mark.index)
            sep = ", " if node.value else ""
            self._add(brace + 1, brace + 1, f"{inline}{sep}")
            return
        first = node.value[0][0]
        start = line_start(text, first.start_mark.index)
        self._add(start, start, " " * first.start_mark.column + block)

    def _insert_items(self, node: SequenceNode, items: list) -> None:
        if not items:
            return
        items = [plain(i) for i in items]
        text = self.source.text
        if node.flow_style or not node.value:
            bracket = text.index("[", node.start_mark.index)
            inline = ", ".join(render.flow(i) for i in items)
            sep = ", " if node.value else ""
            self._add(bracket + 1, bracket + 1, f"{inline}{sep}")
            return
        first = node.value[0]
        begin = line_start(text, first.start_mark.index)
        dash = text.rfind("-", begin, first.start_mark.index) - begin
        self._add(begin, begin, render.block_items(items, dash))

    def _write_value(
        self, path: tuple[str, ...], entry: tuple[ScalarNode, Node], value: object, reason: str
    ) -> None:
        key_node, node = entry
        text = self.source.text
        colon = text.index(":", key_node.end_mark.index) + 1
        is_alias = self.source.defining_key.get(id(node)) is not key_node
        if is_alias:
            match = re.compile(r"\s*\*[^\s,\]}#]+").match(text, colon)
            end = match.end() if match else colon
        elif isinstance(node, ScalarNode) and node.value == "" and not node.style:
            end = colon
        else:
            end = end_index(node)
        self._add(colon, end, " " + render.flow(value))
        self._rewritten.append((colon, end))
        self._written(".".join(path), reason)

    # -- x- copies -------------------------------------------------------------------
    def _insert_copies(self) -> None:
        if not self._copies:
            return
        fields = []
        for key, (name, value) in self._copies.items():
            if key not in self.used_copies:
                continue
            path, service, _ = key
            origin = os.path.relpath(path, self.source.directory)
            note = f"Service {service!r} of {origin} (was used through `extends`)."
            fields.append((name, note, value))
            self.summary.x_fields.append(name)
        if not fields:
            return
        services = own_value(self.source.root, "services")
        assert services is not None
        text = self.source.text
        position = line_start(text, services[0].start_mark.index)
        # keep a comment block that introduces `services:` next to it
        lines_before = text[:position].split("\n")[:-1]
        while lines_before and lines_before[-1].lstrip().startswith("#"):
            lines_before.pop()
        if lines_before:
            position = len("\n".join(lines_before)) + 1
        lead = "\n" if position and text[:position].strip() and text[position - 2] != "\n" else ""
        first = services[1].value[0][0] if isinstance(services[1], MappingNode) else None
        indent = first.start_mark.column if first and first.start_mark.column > 1 else 2
        self._add(position, position, lead + render.x_fields(fields, indent) + "\n")


def _entry_text(key: object, value: object) -> str:
    if value is None:
        return str(key)
    if isinstance(value, bool):
        value = "true" if value else "false"
    return f"{key}={value}"
