"""Small conversions of Compose values into pulumi-docker inputs (pure)."""

from __future__ import annotations

import math
import re
import zlib
from collections.abc import Mapping
from pathlib import PurePosixPath
from typing import Any

MIB = 1024 * 1024
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(h|ms|m|s|us|µs|ns)")
_UNIT_SECONDS = {"h": 3600, "m": 60, "s": 1, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "ns": 1e-9}


def unescape(value: Any) -> Any:
    """Undo `docker compose config`'s `$` → `$$` escaping in every string, keys included.

    Compose's model holds the literal `$`; its JSON output doubles it so that the output is
    a valid Compose file again. What reaches the engine is the single `$`.
    """
    if isinstance(value, str):
        return value.replace("$$", "$")
    if isinstance(value, Mapping):
        return {unescape(k): unescape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unescape(v) for v in value]
    return value


def parse_duration(text: str | int | float) -> float:
    """Seconds in a Compose/Go duration (`1m30s`, `500ms`, `10s`, or a number of seconds)."""
    if isinstance(text, int | float):
        return float(text)
    parts = _DURATION_PART.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise ValueError(f"not a duration: {text!r} (expected e.g. 30s, 1m30s, 500ms)")
    return sum(float(n) * _UNIT_SECONDS[u] for n, u in parts)


def to_mib(size: str | int) -> int:
    """Bytes (as Compose resolves `256M`, `2g`) to whole MiB, rounded up."""
    return math.ceil(int(size) / MIB)


def number_text(value: float | int | str) -> str:
    number = float(value)
    return str(int(number)) if number.is_integer() else str(number)


def octal(mode: str | int) -> str:
    """A file mode as the provider's upload `permissions` (`0440`, `"440"` and 288 all give
    `0440`): a 0 and three octal digits, the only form it accepts (no setuid/sticky bits)."""
    value = int(mode, 8) if isinstance(mode, str) else mode
    return f"0{value & 0o777:03o}"


def strings(mapping: Mapping[str, Any]) -> dict[str, str]:
    return {str(k): "" if v is None else str(v) for k, v in mapping.items()}


def labels(entries: Mapping[str, Any] | list[str]) -> list[dict[str, str]]:
    if isinstance(entries, list):
        entries = dict(entry.partition("=")[::2] for entry in entries)
    return [{"label": k, "value": str(v)} for k, v in sorted(entries.items())]


def copy_keys(source: Mapping[str, Any], target: dict[str, Any], names: Mapping[str, str]) -> None:
    """Copy each non-null `source[src]` to `target[dst]`."""
    for src, dst in names.items():
        if source.get(src) is not None:
            target[dst] = source[src]


def is_within(path: str, directory: str) -> bool:
    return PurePosixPath(path).is_relative_to(PurePosixPath(directory))


def host_entry(entry: str) -> dict[str, str]:
    """`host=ip` (or the older `host:ip`) as a pulumi-docker host entry."""
    host, sep, ip = entry.partition("=")
    if not sep:
        host, _, ip = entry.partition(":")
    return {"host": host, "ip": ip}


def provider_set_order(values: list[str]) -> list[str]:
    """The order in which the docker provider passes a string *set* to Docker.

    The Terraform SDK keeps sets as a map from a hash code (CRC-32 of the string) to the
    value and lists them sorted by that code *as text*; the given order is lost.
    """
    unique = list(dict.fromkeys(values))
    return sorted(unique, key=lambda v: str(zlib.crc32(v.encode())))
