"""Keys that need a newer engine than the one deploying: refused before anything is declared.

Without this check an `up` on an older engine failed half-way: the services before the
first such container were already created (issue 34 item 3).
"""

from __future__ import annotations

from components.compose_stack.plan import ServicePlan, StackPlan
from components.compose_stack.report import ComposeTranslationError

# (key, Docker release, API version) of what an older engine refuses.
START_INTERVAL = ("healthcheck.start_interval", "25.0", (1, 44))
# The provider's `mounts` sends VolumeOptions.Subpath, which engines before API 1.45 refuse
# ("Subpath" in their error) even when only `nocopy` is set.
VOLUME_OPTIONS = ("volume.nocopy / volume.subpath", "26.0", (1, 45))


def problems(plan: StackPlan, api_version: tuple[int, int] | None) -> list[str]:
    """One line per service key that the engine at `api_version` cannot run (None: unknown,
    nothing refused)."""
    if api_version is None:
        return []
    found = []
    for service in plan.services:
        for key, release, needed in _needs(service):
            if api_version < needed:
                found.append(
                    f"service `{service.name}`: `{key}` needs Docker {release} or later (API "
                    f"{needed[0]}.{needed[1]}); this engine speaks API "
                    f"{api_version[0]}.{api_version[1]}: remove the key or upgrade Docker"
                )
    return found


def check(plan: StackPlan, api_version: tuple[int, int] | None) -> None:
    """Raise ComposeTranslationError naming each key the engine is too old for."""
    found = problems(plan, api_version)
    if found:
        raise ComposeTranslationError(found)


def _needs(service: ServicePlan) -> list[tuple[str, str, tuple[int, int]]]:
    out = []
    if "start_interval" in (service.args.get("healthcheck") or {}):
        out.append(START_INTERVAL)
    if any(m.needs_mount_api and m.kind in ("volume", "anonymous") for m in service.mounts):
        key = "volume.nocopy" if any(m.no_copy for m in service.mounts) else "volume.subpath"
        out.append((key, *VOLUME_OPTIONS[1:]))
    return out
