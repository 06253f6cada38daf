"""Field-by-field comparison of two deployments' inspections (pure: no I/O).

`diff` flattens each object's normalized view into dotted paths (`HostConfig.Memory`,
`Config.Labels.com.example.team`); lists stay whole values, so an order change is a
difference (DNS servers, command lines). Objects present on one side only are a
difference at the path `<exists>`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

MISSING = "<missing>"


@dataclass(frozen=True)
class Difference:
    """One field that differs: `obj` is e.g. `container <project>-app-1`."""

    obj: str
    path: str
    compose: Any
    slipway: Any

    def __str__(self) -> str:
        return f"{self.obj}: {self.path}: compose={self.compose!r} slipway={self.slipway!r}"


# A normalizer turns one side's raw inspections ({object name: document}) into views that
# can be compared; `side` is "compose" or "slipway".
Normalizer = Callable[[Mapping[str, Any], str], Mapping[str, Any]]


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """`{"a": {"b": 1}}` as `{"a.b": 1}`; lists and scalars are leaves."""
    if not isinstance(value, Mapping) or not value:
        return {prefix: value} if prefix else {}
    out: dict[str, Any] = {}
    for key, item in value.items():
        out.update(flatten(item, f"{prefix}.{key}" if prefix else str(key)))
    return out


def diff(
    inspect_a: Mapping[str, Any],
    inspect_b: Mapping[str, Any],
    normalizers: list[Normalizer],
) -> list[Difference]:
    """Every field where compose's objects (`inspect_a`) and Slipway's (`inspect_b`) differ,
    after each normalizer has been applied to both in turn."""
    for normalize in normalizers:
        inspect_a, inspect_b = normalize(inspect_a, "compose"), normalize(inspect_b, "slipway")
    out = []
    for obj in sorted(set(inspect_a) | set(inspect_b)):
        if obj not in inspect_a or obj not in inspect_b:
            out.append(Difference(obj, "<exists>", obj in inspect_a, obj in inspect_b))
            continue
        a, b = flatten(inspect_a[obj]), flatten(inspect_b[obj])
        for path in sorted(set(a) | set(b)):
            left, right = a.get(path, MISSING), b.get(path, MISSING)
            if left != right:
                out.append(Difference(obj, path, left, right))
    return out
