"""Make (`make lock`) or check the hash-locked dependency sets.

Each `X.txt` input is short and edited by people; its `X.lock` is made from it by
`uv pip compile` with every version pinned and every file's SHA-256, for Python 3.11 on
Linux. The dev and client locks take the runtime lock as a constraint, so all three agree.
Each lock records a fingerprint of its inputs; `--check` (and tests/test_locks.py) fails
when an input changed and the lock was not made again.
"""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PYTHON_VERSION = "3.11"
# glibc 2.28 or newer: the image (Debian bookworm) and ubuntu-latest runners both are.
PYTHON_PLATFORM = "x86_64-manylinux_2_28"
FINGERPRINT = "# inputs-sha256: "


@dataclass(frozen=True)
class Lock:
    path: str
    source: str
    constraints: tuple[str, ...] = ()


LOCKS = (
    Lock("requirements.lock", "requirements.txt"),
    Lock("requirements-dev.lock", "requirements-dev.txt", ("requirements.lock",)),
    Lock(
        "deploy_client/requirements.lock",
        "deploy_client/requirements.txt",
        ("requirements.lock",),
    ),
)


def requirement_lines(path: Path) -> list[str]:
    """The requirement lines of a file, without comments, blanks and line continuations."""
    text = path.read_text().replace("\\\n", " ")
    lines = (re.sub(r"(^|\s)#.*", "", line).split() for line in text.splitlines())
    return [" ".join(words) for words in lines if words]


def input_files(path: Path) -> list[Path]:
    """`path` and every file it includes with `-r` or `-c`, in order."""
    found = [path]
    for line in requirement_lines(path):
        option, _, target = line.partition(" ")
        if option in ("-r", "-c"):
            found += input_files(path.parent / target)
    return found


def fingerprint(lock: Lock, root: Path = REPO) -> str:
    """SHA-256 of the requirement lines of every input of `lock` (comments do not count)."""
    digest = hashlib.sha256()
    files = input_files(root / lock.source) + [root / c for c in lock.constraints]
    for path in files:
        digest.update(f"{path.relative_to(root)}\n".encode())
        digest.update("\n".join(requirement_lines(path)).encode() + b"\n\n")
    return digest.hexdigest()


def recorded_fingerprint(lock: Lock, root: Path = REPO) -> str | None:
    path = root / lock.path
    if not path.is_file():
        return None
    for line in path.read_text().splitlines():
        if line.startswith(FINGERPRINT):
            return line.removeprefix(FINGERPRINT).split()[0]
    return None


def stale(root: Path = REPO) -> list[str]:
    """One message per lock whose inputs changed since it was made."""
    return [
        f"{lock.path} is out of date with {lock.source}: run `make lock` and commit both"
        for lock in LOCKS
        if recorded_fingerprint(lock, root) != fingerprint(lock, root)
    ]


def canonical(name: str) -> str:
    """A package name as PEP 503 spells it: `typing_extensions` → `typing-extensions`."""
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(path: Path) -> dict[str, tuple[str, frozenset[str]]]:
    """A lock's packages: normalised name → (version, hashes)."""
    found = {}
    for line in requirement_lines(path):
        name, _, rest = line.partition("==")
        version, *options = rest.split()
        hashes = frozenset(o.removeprefix("--hash=") for o in options if o.startswith("--hash="))
        found[canonical(name)] = (version, hashes)
    return found


def compile_lock(lock: Lock, upgrade: bool) -> None:
    """Resolve one lock with uv (keeping its current pins unless `upgrade`), then stamp it."""
    uv = Path(sys.executable).parent / "uv"
    if not uv.exists():
        sys.exit(f"{uv} is missing: run `make venv` (uv comes with requirements-dev.lock)")
    command = [str(uv), "pip", "compile", "--quiet", "--generate-hashes"]
    command += ["--python-version", PYTHON_VERSION, "--python-platform", PYTHON_PLATFORM]
    command += [lock.source, "-o", lock.path]
    for constraint in lock.constraints:
        command += ["-c", constraint]
    if upgrade:
        command.append("--upgrade")
    subprocess.run(command, cwd=REPO, check=True)
    path = REPO / lock.path
    header, _, body = path.read_text().partition("\n#    uv pip compile")
    line, _, rest = body.partition("\n")
    stamp = f"{FINGERPRINT}{fingerprint(lock)}  (run `make lock` after editing {lock.source})"
    path.write_text(f"{header}\n#    uv pip compile{line}\n{stamp}\n{rest}")


def main(argv: list[str]) -> int:
    if "--check" in argv:
        problems = stale()
        print("\n".join(problems) or "all locks are up to date")
        return 1 if problems else 0
    for lock in LOCKS:  # the runtime lock first: the others take it as a constraint
        compile_lock(lock, upgrade="--upgrade" in argv)
        print(f"{lock.path}: {len(pins(REPO / lock.path))} packages")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
