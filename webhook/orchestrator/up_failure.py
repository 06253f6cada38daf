"""The note of a failed `up`: the failing Swarm service and why first, then the error.

A Swarm stack's `up` fails when a service does not converge (components/swarm_stack/
converge.py): Swarm rolled it back, paused its update, or the deadline passed. Its message
(`service p_api: Swarm rolled it back (...)`) sits somewhere in the engine's long output;
put first, it is what the page, `GET /deployments/{id}`, the GitHub status (cut at 140
characters) and the deploy client show. Other failures keep the note they had.
"""

from __future__ import annotations

import re

from components.swarm_stack.converge import FAILED_STATES

_WHY = "|".join(re.escape(why) for why in FAILED_STATES.values())
_SERVICE = re.compile(
    rf"service (?P<name>[\w.-]+): (?P<why>(?:{_WHY})(?: \(.*?\))?(?=$|[\"'\\])"
    r"|\d+/\d+ tasks running \S+: not converged within \d+ s(?:; a task failed: [^\"'\\\n]+)?)",
    re.MULTILINE,
)


def swarm_failure(text: str) -> str | None:
    """`service NAME failed: WHY` for the first Swarm service `text` says did not converge."""
    found = _SERVICE.search(text)
    return f"service {found['name']} failed: {found['why'].strip()}" if found else None


def up_failure_note(error: Exception) -> str:
    """The `failed` note of an `up` that raised `error`."""
    text = str(error)
    service = swarm_failure(text)
    return f"{service}; up failed: {text}" if service else f"up failed: {text}"
