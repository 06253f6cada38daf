"""The one allowlist of the equivalence suite: each known difference and why (pure).

An entry matches a Difference by object and path (fnmatch patterns) and, when it has a
`when`, only if that check of the two values holds (so an entry for "the same entries in
another order" does not hide a changed entry). `cosmetic`: nothing a process, a client or
an operator can observe changes; otherwise the entry is behavioural and documented for
users in docs/compose-support.md ("Differences from docker compose up, measured").
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

from tests.support.fidelity.diff import MISSING, Difference


def _empty(value: Any) -> bool:
    return value in (MISSING, None, "", [], {}, False)


def both_empty(a: Any, b: Any) -> bool:
    """`None`, missing, `[]`, `{}`, `""` and `False`: the engine's default either way."""
    return _empty(a) and _empty(b)


def one_of(*values: Any) -> Callable[[Any, Any], bool]:
    """Both values are among `values` (e.g. restart policy "" and "no")."""
    return lambda a, b: a in values and b in values


def slipway_rounds_up_to_mib(a: Any, b: Any) -> bool:
    mib = 1024 * 1024
    return isinstance(a, int) and isinstance(b, int) and b == -(-a // mib) * mib


# Files of the storage case that Slipway uploads instead of bind-mounting.
UPLOADED = ("/usr/local/bin/entry.sh", "/run/secrets/file_secret", "/etc/app/config.conf")


# Names that only `links: [api:legacy-api]` gives (dns probe lines start with the name).
LINK_NAMES = ("legacy-api ", "api-1 ")


def _without(text: Any, paths: tuple[str, ...]) -> list[str]:
    return [line for line in str(text).splitlines() if not line.startswith(paths)]


def always(a: Any, b: Any) -> bool:
    return True


@dataclass(frozen=True)
class Allowed:
    """A known difference: `path` (and `obj`) are fnmatch patterns."""

    path: str
    reason: str
    cosmetic: bool
    obj: str = "*"
    when: Callable[[Any, Any], bool] = always

    def matches(self, difference: Difference) -> bool:
        return (
            fnmatchcase(difference.path, self.path)
            and fnmatchcase(difference.obj, self.obj)
            and self.when(difference.compose, difference.slipway)
        )


ALLOWED: tuple[Allowed, ...] = (
    Allowed(
        "HostConfig.*",
        "an empty setting (unset, `[]`, `{}`, `false`) where the other side leaves it unset: "
        "the engine's default either way",
        cosmetic=True,
        when=both_empty,
    ),
    Allowed(
        "Networks.*.[DI]*",
        "attachment without driver options or fixed address: `null` vs `{}`",
        cosmetic=True,
        when=both_empty,
    ),
    Allowed(
        "Config.Env",
        "a variable listed without a value and unset where Compose runs: Compose sends the "
        "bare name, which the process never sees (the env probe is the same); Slipway "
        "leaves it out",
        cosmetic=True,
        when=lambda a, b: [e for e in a if "=" in e] == b,
    ),
    Allowed(
        "Config.Attach*",
        "compose records that `up` could attach to the output streams; the process and its "
        "logs are the same",
        cosmetic=True,
    ),
    Allowed(
        "Config.Labels.com.docker.compose.image.builder",
        "image bookkeeping label of Compose's classic builder, not set by the provider",
        cosmetic=True,
        when=lambda a, b: b == MISSING,
    ),
    Allowed(
        "Config.Labels.com.docker.compose.project.[cw]*",
        "Slipway writes config_files/working_dir relative to the Pulumi project folder, so "
        "they are the same in every checkout (Compose: absolute paths)",
        cosmetic=True,
    ),
    Allowed(
        "HostConfig.NetworkMode",
        "the provider creates the container in `bridge` mode and then attaches the project "
        "networks; it is attached to the same networks, not to `bridge`",
        cosmetic=True,
        when=lambda a, b: b == "bridge" and str(a).startswith("<project>_"),
    ),
    Allowed(
        "Networks.*.Aliases",
        "Compose also lists the container name as an alias; Docker's DNS answers the "
        "container name on user-defined networks without it",
        cosmetic=True,
        when=lambda a, b: sorted(x for x in a if not x.startswith("<project>-")) == sorted(b),
    ),
    Allowed(
        "Networks.*.Aliases",
        "`links: [api:legacy-api]`: the link alias is a network alias of the linked service, "
        "so every container on that network resolves it (Compose: only the linking one)",
        cosmetic=False,
        obj="container <project>-api-1",
        when=lambda a, b: (
            sorted([x for x in a if not x.startswith("<project>-")] + ["legacy-api"]) == sorted(b)
        ),
    ),
    Allowed(
        "Networks.*.Links",
        "Slipway makes no legacy links: the linking container does not get the extra names "
        "Compose's link gives (`<service>-1`, the container name) in its /etc/hosts; the "
        "alias resolves through Docker's DNS",
        cosmetic=False,
        when=lambda a, b: b in (None, MISSING),
    ),
    Allowed(
        "Probe.dns",
        "what Docker's DNS answers inside the containers: `legacy-api` (the link alias) "
        "everywhere on the shared networks, `api-1` (a name of Compose's legacy link) nowhere",
        cosmetic=False,
        when=lambda a, b: _without(a, LINK_NAMES) == _without(b, LINK_NAMES),
    ),
    Allowed(
        "Config.ExposedPorts.*",
        "`expose` is warned and dropped: the provider cannot expose a port without publishing "
        "it (the port is reachable on the project's networks all the same; a proxy that reads "
        "exposed ports needs its port label)",
        cosmetic=False,
        obj="container <project>-app-1",
        when=lambda a, b: b == MISSING,
    ),
    Allowed(
        "HostConfig.PortBindings.*",
        "Compose leaves the host address empty (Docker binds IPv4 and IPv6); Slipway writes "
        "`0.0.0.0` and `::` out: the same sockets",
        cosmetic=True,
        when=lambda a, b: (
            [p["HostPort"] for p in a if p["HostIp"] == ""] != []
            and sorted(p["HostIp"] for p in b) == ["0.0.0.0", "::"]
        ),
    ),
    Allowed(
        "HostConfig.RestartPolicy.Name",
        'no restart policy: Compose sends `""`, the provider `no`',
        cosmetic=True,
        when=one_of("", "no"),
    ),
    Allowed(
        "Config.Volumes*",
        "the provider also declares every mount point as an image-style VOLUME of the "
        "container; each of them is mounted, so no extra volume is created",
        cosmetic=True,
    ),
    Allowed(
        "HostConfig.VolumesFrom",
        "Compose names the source container by ID, Slipway by name: the same container",
        cosmetic=True,
        when=lambda a, b: a == ["<container-id>"] and str(b[0]).startswith("<project>-"),
    ),
    *(
        Allowed(
            f"Mounts.{target}.*",
            "a read-only project file (bind, `file` secret or config) is uploaded into the "
            "container, not bind-mounted (the checkout does not outlive the deployment)",
            cosmetic=False,
            obj="container <project>-store-1",
            when=lambda a, b: b == MISSING,
        )
        for target in UPLOADED
    ),
    Allowed(
        "Probe.mounts",
        "the uploaded files are not mount points",
        cosmetic=False,
        obj="container <project>-store-1",
        when=lambda a, b: _without(a, UPLOADED) == _without(b, UPLOADED),
    ),
    Allowed(
        "Probe.writable",
        "the uploaded copy is writable inside the container (the project's file never is)",
        cosmetic=False,
        obj="container <project>-store-1",
        when=lambda a, b: _without(a, UPLOADED) == _without(b, UPLOADED),
    ),
    Allowed(
        "Replacement./image-vol",
        "an image's own VOLUME that the Compose file does not name: a replaced container "
        "starts with a fresh volume (Slipway does not know the image's VOLUMEs when it "
        "plans; the old one stays on the host, detached); name the path in the Compose file",
        cosmetic=False,
        when=lambda a, b: b == "",
    ),
    Allowed(
        "HostConfig.[MS]*",
        "sizes are rounded up to whole MiB (the provider takes MiB for memory reservation, "
        "swap and shm_size)",
        cosmetic=False,
        when=slipway_rounds_up_to_mib,
    ),
    *(
        Allowed(
            "Config.[CE]*",
            '`entrypoint: []` (or `[""]`) with a `command`, or a command with an empty '
            "argument: the whole command line becomes the entrypoint (the provider drops an "
            "empty entrypoint, refuses an empty argument); pid 1 runs the same argv",
            cosmetic=True,
            obj=f"container <project>-{name}",
        )
        for name in ("named", "reset-1")
    ),
    Allowed(
        "Config.Stop*",
        "`stop_grace_period: 0s`: the provider reads a stop timeout of 0 as unset (10 s), so "
        "Slipway stops with SIGKILL at once instead of SIGTERM then SIGKILL at once",
        cosmetic=False,
        obj="container <project>-quota-1",
    ),
)


def unexplained(differences: Iterable[Difference]) -> list[Difference]:
    """The differences no entry allows: the suite fails on each of them."""
    return [d for d in differences if not any(a.matches(d) for a in ALLOWED)]


def used(differences: Iterable[Difference]) -> set[int]:
    """Indexes of ALLOWED entries that allowed at least one of `differences`."""
    return {i for d in differences for i, a in enumerate(ALLOWED) if a.matches(d)}
