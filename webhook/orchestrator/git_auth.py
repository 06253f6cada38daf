"""Repository credentials kept out of every message, argv and file (docs/secrets.md).

A token given in SLIPWAY_REPO_URL (`https://user:token@host/owner/repo.git`) is split off:
git is run with the URL without it and gets the user and token from `GIT_ASKPASS`, a
script under the state directory that prints them from its environment (the script holds
no secret). So the token is not in git's argv (`ps` shows argv to every user), not in the
mirror's config (`remote.origin.url`), and `redact` takes any `user:token@` out of a text
before it becomes an error message, a log line or a deployment note.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)[^/@\s]+@")
ASKPASS_SCRIPT = """#!/bin/sh
# Slipway's GIT_ASKPASS: answers git's prompts from the environment git was started with.
case "$1" in
  Username*) printf '%s\\n' "$SLIPWAY_GIT_USERNAME" ;;
  *) printf '%s\\n' "$SLIPWAY_GIT_PASSWORD" ;;
esac
"""


def redact(text: str) -> str:
    """`text` with the userinfo of every URL in it replaced by `***`."""
    return USERINFO.sub(r"\g<scheme>***@", text)


def split_credentials(url: str) -> tuple[str, tuple[str, str] | None]:
    """(the URL without userinfo, (user, password) or None). Only URLs with a scheme and a
    password are split: `git@host:path` (ssh, key auth) and local paths stay as given."""
    if "://" not in url:
        return url, None
    parts = urlsplit(url)
    if parts.password is None or parts.hostname is None:
        return url, None
    host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    netloc = host + (f":{parts.port}" if parts.port is not None else "")
    clean = urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    return clean, (unquote(parts.username or ""), unquote(parts.password))


def askpass_env(state_dir: Path, credentials: tuple[str, str] | None) -> dict[str, str]:
    """The environment for a git process: never prompt on a terminal, and, with
    credentials, answer git's prompts through the askpass script (written here, 0700)."""
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0"}
    if credentials is None:
        return env
    script = state_dir / "git" / "askpass.sh"
    if not script.is_file() or script.read_text() != ASKPASS_SCRIPT:
        script.parent.mkdir(parents=True, exist_ok=True)
        partial = script.with_suffix(".partial")
        partial.write_text(ASKPASS_SCRIPT)
        partial.chmod(0o700)
        partial.replace(script)
    user, password = credentials
    env.update(
        GIT_ASKPASS=str(script.resolve()),
        SLIPWAY_GIT_USERNAME=user,
        SLIPWAY_GIT_PASSWORD=password,
    )
    return env
