"""Keys with a one-string form and a list form (`dns: 8.8.8.8` / `dns: [8.8.8.8]`), and
`build: ./dir` / `build: {context: ./dir}`: through `extends` Compose combines the two forms
as lists (as mappings for `build`), whatever form each side is written in. The migration
must say the same, which Docker Compose's `config` checks (issue 13, item 13).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from components.compose.migrate import Project, migrate
from components.compose.yaml_source import load_source, services_using_extends

# key: (a value in one-string form, another in list form); Compose appends the child's.
SCALAR_OR_LIST = {
    "dns": ("1.1.1.1", "8.8.8.8"),
    "dns_search": ("a.example", "b.example"),
    "tmpfs": ("/run", "/cache:size=1m"),
    "env_file": ("base.env", "child.env"),
    "label_file": ("base.labels", "child.labels"),
}
FORMS = ["scalar-scalar", "list-scalar", "scalar-list", "list-list"]


def _written(value: str, form: str) -> str:
    return value if form == "scalar" else f"[{value}]"


def _migrate(tmp_path: Path, text: str) -> str:
    for name in ("base.env", "child.env"):
        (tmp_path / name).write_text(f"{name.split('.')[0].upper()}=1\n")
    for name in ("base.labels", "child.labels"):
        (tmp_path / name).write_text(f"com.example.{name.split('.')[0]}=1\n")
    (tmp_path / "app").mkdir(exist_ok=True)
    path = tmp_path / "compose.yml"
    path.write_text(text)
    # `migrate` proves the result equivalent with Docker Compose itself, or raises.
    [result] = migrate(Project.of([path]), write=False)
    assert not services_using_extends(load_source(path, result.migrated))
    return result.migrated


@pytest.mark.parametrize("forms", FORMS)
@pytest.mark.parametrize("key", sorted(SCALAR_OR_LIST))
def test_scalar_and_list_forms_combine_like_compose(tmp_path: Path, key: str, forms: str) -> None:
    base_form, child_form = forms.split("-")
    base_value, child_value = SCALAR_OR_LIST[key]
    text = (
        "services:\n"
        "  base:\n    image: busybox\n"
        f"    {key}: {_written(base_value, base_form)}\n"
        "  web:\n    extends: base\n"
        f"    {key}: {_written(child_value, child_form)}\n"
    )
    _migrate(tmp_path, text)


@pytest.mark.parametrize(
    ("base", "child"),
    [
        ("./app", "{dockerfile: Dockerfile.web}"),
        ("{context: ./app, args: {A: '1'}}", "./app"),
        ("./app", "."),
    ],
)
def test_build_string_and_mapping_forms_combine_like_compose(tmp_path, base, child) -> None:
    text = f"services:\n  base:\n    build: {base}\n  web:\n    extends: base\n    build: {child}\n"
    _migrate(tmp_path, text)
