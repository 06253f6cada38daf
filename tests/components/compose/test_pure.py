"""Pure parts of the migration: rules, path rebasing, merging, parsing, planning."""

from __future__ import annotations

from pathlib import Path, PurePath

import pytest

from components.compose.equivalence import differences, normalize
from components.compose.migration_plan import Planner
from components.compose.paths import rebase, rebase_volume, split_volume
from components.compose.resolve import Resolver, interpolate, merge_service
from components.compose.rules import Merge, rule_for
from components.compose.yaml_source import MigrationError, load_source
from components.compose.yamlnodes import compose, construct


@pytest.mark.parametrize(
    ("path", "value", "merge"),
    [
        (("command",), ["a"], Merge.REPLACE),
        (("environment",), {"A": 1}, Merge.KEYED),
        (("build", "args"), ["A=1"], Merge.KEYED),
        (("healthcheck", "test"), ["CMD", "x"], Merge.REPLACE),
        (("healthcheck",), {"interval": "5s"}, Merge.MAPPING),
        (("ulimits", "nofile"), {"soft": 1}, Merge.REPLACE),
        (("ports",), ["80:80"], Merge.SEQUENCE),
        (("image",), "nginx", Merge.REPLACE),
    ],
)
def test_rule_table(path: tuple, value: object, merge: Merge) -> None:
    assert rule_for(path, value).merge is merge


def test_rebase_points_at_the_same_place() -> None:
    lib, project = PurePath("/p/lib/sub"), PurePath("/p")
    assert rebase("./data", lib, project) == "./lib/sub/data"
    assert rebase("../x", lib, project) == "./lib/x"
    assert rebase("data", PurePath("/p"), PurePath("/p/a")) == "../data"
    for unchanged in ("/abs", "~/home", "${VAR}/x", "https://example.com/repo.git"):
        assert rebase(unchanged, lib, project) == unchanged


def test_volume_specs_split_outside_interpolation() -> None:
    assert split_volume("${SRC:-./a}:/data:ro") == ["${SRC:-./a}", "/data", "ro"]
    lib, project = PurePath("/p/lib"), PurePath("/p")
    assert rebase_volume("./a:/data:ro", lib, project) == "./lib/a:/data:ro"
    assert rebase_volume("named:/data", lib, project) == "named:/data"


def test_interpolation_of_extends_file() -> None:
    env = {"A": "x", "EMPTY": ""}
    assert interpolate("${A}/${B:-d}/${EMPTY:-e}/${EMPTY-f}/$A/$$A", env) == "x/d/e//x/$A"


def test_merge_service_follows_compose() -> None:
    base = construct(
        compose(
            "environment: [A=1, B=2]\nports: ['80:80']\ncommand: [a]\n"
            "healthcheck: {test: [CMD, a], interval: 5s}\nlogging: {driver: x, options: {k: v}}\n"
        )[0]
    )
    child = construct(
        compose(
            "environment: {B: 3, C: 4}\nports: ['81:81']\ncommand: [b]\n"
            "healthcheck: {test: [CMD, b]}\nlogging: {options: {j: w}}\n"
        )[0]
    )
    merged = merge_service(base, child)
    assert dict(merged["environment"]) == {"A": "1", "B": 3, "C": 4}
    assert list(merged["ports"]) == ["80:80", "81:81"]
    assert list(merged["command"]) == ["b"]
    assert merged["healthcheck"]["test"] == ["CMD", "b"]
    assert merged["healthcheck"]["interval"] == "5s"
    assert dict(merged["logging"]["options"]) == {"k": "v", "j": "w"}


def test_yaml_nodes_keep_positions_anchors_and_types() -> None:
    text = 'a: &x {p: 1, q: "2"}\nb:\n  <<: *x\n  p: 3\n  r: [0.5, true, ~, !reset x]\n'
    root, redefined = compose(text)
    data = construct(root)
    assert data["b"]["p"] == 3 and data["b"]["q"] == "2"
    assert data["b"]["r"][:3] == [0.5, True, None]
    assert str(data["b"]["r"][3].tag) == "!reset"
    assert root.value[0][1].anchor == "x"
    assert text[root.value[1][0].start_mark.index] == "b"
    assert redefined == set()


def test_invalid_yaml_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "c.yml"
    path.write_text("services:\n  a:\n    image: x\n   bad: [\n")
    with pytest.raises(MigrationError) as info:
        load_source(path)
    assert info.value.line == 4
    assert "invalid YAML" in str(info.value)


def _plan(tmp_path: Path, text: str, files: dict[str, str] | None = None) -> str:
    for name, content in (files or {}).items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(content)
    path = tmp_path / "compose.yml"
    path.write_text(text)
    resolver = Resolver(tmp_path, {}, load_source)
    return Planner(load_source(path), resolver, tmp_path).plan().apply()


def test_existing_anchors_and_x_fields_are_not_reused(tmp_path: Path) -> None:
    text = (
        "x-base: &base\n  labels: {a: b}\n"
        "services:\n  web:\n    <<: *base\n    extends:\n      file: lib/l.yml\n"
        "      service: base\n"
    )
    out = _plan(tmp_path, text, {"lib/l.yml": "services:\n  base:\n    image: nginx\n"})
    assert "x-base-2: &base-2\n" in out
    assert "<<: [*base, *base-2]" in out  # the service's own merge keeps precedence
    assert "x-base: &base\n" in out


def test_comments_inside_extends_are_kept(tmp_path: Path) -> None:
    text = (
        "services:\n  base:\n    image: a\n  web:\n    extends:  # why\n"
        "      # which one\n      service: base  # the base\n    command: x\n"
    )
    out = _plan(tmp_path, text)
    assert "    # why\n    # which one\n    <<: *base  # the base\n    command: x\n" in out


def test_a_base_written_after_the_child_is_copied(tmp_path: Path) -> None:
    text = "services:\n  web:\n    extends: base\n  base:\n    image: a\n    ports: ['80:80']\n"
    out = _plan(tmp_path, text)
    assert out.index("x-base: &base") < out.index("services:")
    assert "  base:\n    image: a\n" in out  # the base service itself stays


def test_normalize_and_differences() -> None:
    assert normalize({"x-a": 1, "services": {}}) == {"services": {}}
    before = {"services": {"w": {"environment": {"A": "1"}, "ports": [1]}}}
    after = {"services": {"w": {"environment": {}, "ports": [2]}}}
    assert sorted(differences(before, after)) == [
        "services.w.environment.A: only before migration: '1'",
        "services.w.ports[0]: 1 before, 2 after",
    ]
