"""Compare two `docker compose config` models (pure)."""

from __future__ import annotations

from collections.abc import Iterator


def normalize(model: dict) -> dict:
    """The model without top-level `x-` fields (they only carry anchors)."""
    return {k: v for k, v in model.items() if not str(k).startswith("x-")}


def differences(before: object, after: object, path: str = "") -> Iterator[str]:
    """Dotted paths where two JSON values differ, with both values."""
    if isinstance(before, dict) and isinstance(after, dict):
        for key in sorted(set(before) | set(after), key=str):
            sub = f"{path}.{key}" if path else str(key)
            if key not in before:
                yield f"{sub}: only after migration: {after[key]!r}"
            elif key not in after:
                yield f"{sub}: only before migration: {before[key]!r}"
            else:
                yield from differences(before[key], after[key], sub)
    elif isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        for i, (b, a) in enumerate(zip(before, after, strict=True)):
            yield from differences(b, a, f"{path}[{i}]")
    elif before != after:
        yield f"{path}: {before!r} before, {after!r} after"
