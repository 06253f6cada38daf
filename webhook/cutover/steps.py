"""One release through the cutover: gate the candidate, switch, watch, switch back.

Called by the pipeline after `up` when the stack output `routing` names routed services.
The candidate's containers already run beside the live release's (Pulumi created them
under release-specific names and forgot the old ones without deleting them). The order:

1. the proxy runs and reaches the stack's network;
2. gate: every candidate container runs and passes its healthcheck; then the candidate gets
   the private route, and the route health paths and the stack's health URLs must pass
   through it: no user yet;
3. switch: one rename of the `live` link in the proxy's routes folder sends users to the
   candidate (no reload, nothing run in the proxy);
4. watch: the public health checks keep running for `watch_seconds`; `watch_failures`
   failures in a row switch the public route back to the previous release at once;
5. retire: after the window (and `drain_seconds`), every other release's containers stop.

A failure before step 3 never reached a user; a failure in step 4 says for how long users
saw the release. Either way the pipeline then deploys the last healthy commit (reconcile).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from webhook.cutover import engine
from webhook.cutover.caddy import CaddyAdmin, Release, RouteSpec
from webhook.cutover.proxy_routes import ProxyRoutes
from webhook.cutover.route_files import RoutesFolder
from webhook.health import HealthPolicy, HealthTarget, check_health, probe

Log = Callable[[str], None]


@dataclass(frozen=True)
class CutoverPolicy:
    gate: HealthPolicy  # the candidate's checks through the private route
    watch_seconds: float = 60.0
    watch_failures: int = 3
    watch_interval_seconds: float = 1.0
    drain_seconds: float = 5.0


@dataclass(frozen=True)
class CutoverReport:
    healthy: bool
    summary: str  # what happened; after a switch back, how long users saw the release


@dataclass(frozen=True)
class RoutingOutput:
    """The `routing` stack output (components/compose_stack/routes.py)."""

    project: str
    listen: str
    release: Release
    routes: tuple[RouteSpec, ...]
    networks: tuple[str, ...]
    health_paths: tuple[str, ...]

    @classmethod
    def parse(cls, raw: Mapping[str, Any]) -> RoutingOutput:
        services = raw["services"]
        if not raw.get("release"):
            raise ValueError("routing output without a release: the stack was deployed by hand")
        return cls(
            project=raw["project"],
            listen=raw["listen"],
            release=Release(raw["release"], {s["service"]: s["containers"] for s in services}),
            routes=tuple(
                RouteSpec(s["service"], s["port"], s.get("path") or "/", s.get("host"))
                for s in services
            ),
            networks=tuple(dict.fromkeys(s["network"] for s in services if s.get("network"))),
            health_paths=tuple(s["health"] for s in services if s.get("health")),
        )


def through(url: str, base: str) -> str:
    """`url` with its scheme and address replaced by `base` (path and query kept)."""
    parts, new = urlsplit(url), urlsplit(base)
    return urlunsplit((new.scheme, new.netloc, parts.path, parts.query, ""))


def proxied(targets: Sequence[HealthTarget], listen: str) -> list[HealthTarget]:
    """The health targets addressed to the proxy's public `listen` address."""
    return [t for t in targets if urlsplit(t.url).netloc == listen]


def gate_targets(
    routing: RoutingOutput, targets: Sequence[HealthTarget], base: str
) -> list[HealthTarget]:
    """Route health paths and the stack's proxied health URLs, sent to `base` instead (each
    once: a route's health path is often also the stack's health URL)."""
    out = [HealthTarget(url=through(path, base)) for path in routing.health_paths]
    out += [
        HealthTarget(through(t.url, base), t.status, t.timeout_seconds)
        for t in proxied(targets, routing.listen)
    ]
    return list(dict.fromkeys(out))


def watch_targets(routing: RoutingOutput, targets: Sequence[HealthTarget]) -> list[HealthTarget]:
    """What the watch window probes: the route health paths through the public address and
    every health URL of the stack, each once."""
    base = f"http://{routing.listen}"
    return list(
        dict.fromkeys([HealthTarget(through(p, base)) for p in routing.health_paths] + [*targets])
    )


def backend_for(raw_routing: Mapping[str, Any]) -> Any:
    """Where the routed units run: containers of the service's engine (engine.py), or
    Swarm services on the stack's manager (swarm_engine.py, target `swarm`)."""
    if raw_routing.get("target") == "swarm":
        from webhook.cutover.swarm_engine import SwarmEngine

        return SwarmEngine(raw_routing.get("dockerHost"))
    return engine


@dataclass
class Cutover:
    policy: CutoverPolicy
    binds_root: Path  # the proxy's routes folder is `proxy-<project>` in it
    clock: Callable[[], float] = time.monotonic
    grace: float = field(init=False)
    backend: Any = engine  # set by `run` from the routing output (backend_for)

    def __post_init__(self) -> None:
        self.grace = max(self.policy.drain_seconds, 1.0)

    @classmethod
    def from_settings(cls, settings: Any, binds_root: Path) -> Cutover:
        """From `OrchestratorSettings` (`SLIPWAY_WATCH_*`, `SLIPWAY_DRAIN_SECONDS`)."""
        return cls(
            CutoverPolicy(
                gate=settings.health_policy,
                watch_seconds=settings.watch_seconds,
                watch_failures=settings.watch_failures,
                watch_interval_seconds=settings.watch_interval_seconds,
                drain_seconds=settings.drain_seconds,
            ),
            binds_root,
        )

    def run(
        self,
        raw_routing: Mapping[str, Any],
        targets: Sequence[HealthTarget],
        log: Log,
        cancel: threading.Event,
    ) -> CutoverReport:
        """Steps 1-5; a proxy or engine failure is an unhealthy report with the reason."""
        try:
            self.backend = backend_for(raw_routing)
            return self._run(RoutingOutput.parse(raw_routing), targets, log, cancel)
        except (engine.EngineError, RuntimeError, httpx.HTTPError, ValueError, KeyError) as error:
            return CutoverReport(False, f"cutover failed: {type(error).__name__}: {error}")

    def _run(
        self,
        routing: RoutingOutput,
        targets: Sequence[HealthTarget],
        log: Log,
        cancel: threading.Event,
    ) -> CutoverReport:
        candidate = routing.release
        folder = RoutesFolder(self.binds_root / f"proxy-{routing.project}")
        folder.create()  # before the proxy binds it: Docker would make it, owned by root
        proxy = self.backend.ensure_proxy(
            routing.project, routing.listen, routing.networks, folder.root, log
        )
        routes = ProxyRoutes(folder, CaddyAdmin(proxy.admin_url), routing.routes, self.grace)
        live = routes.live()
        live_name = live.name if live else None
        serving = live is not None  # users reach some release now
        if live is not None and live.name == candidate.name:
            live = None  # the same release again (an interrupted deployment retried)
        was = f"release {live.name}" if live else "no release"
        problem = self._wait_containers(candidate.all_containers, log, cancel)
        if problem is None:
            upstreams = Release(
                candidate.name,
                {
                    service: [
                        found
                        for name in names
                        for found in self.backend.addresses(name, routing.networks)
                    ]
                    for service, names in candidate.containers.items()
                },
            )
            routes.stage(upstreams, live, serving=serving)
            log(f"cutover: candidate {candidate.name} on the private route "
                f"{proxy.private_url}; users stay on {was}")  # fmt: skip
            problem = self._probe(routing, targets, proxy.private_url, log, cancel)
        if problem is None and (moved := _moved_by_hand(routes, expected=live_name)):
            problem = f"an operator switched users to release {moved} meanwhile; left there"
        if problem is not None:
            self._abandon(candidate, routes, log)
            return CutoverReport(
                False, f"candidate {candidate.name} never received user traffic: {problem}"
            )
        routes.switch(candidate.name)
        switched_at = self.clock()
        log(f"cutover: users now reach release {candidate.name} (was {was})")
        failure = self._watch(routing, targets, routes, log, cancel)
        if isinstance(failure, tuple):
            return self._switch_back(routing, routes, live, failure, switched_at, log)
        if failure is None:
            cancel.wait(self.policy.drain_seconds)
            failure = _moved_by_hand(routes, expected=candidate.name)
        if failure is not None:
            return self._by_hand(candidate.name, failure, log)
        self._retire(routing.project, candidate, log)
        routes.prune(candidate.name)
        return CutoverReport(True, f"release {candidate.name} serves users")

    def _abandon(self, candidate: Release, routes: ProxyRoutes, log: Log) -> None:
        """Stop a candidate no user reaches when the backend can (Swarm: its failing tasks
        would restart until the next cutover); one engine leaves its containers be."""
        abandon = getattr(self.backend, "abandon", None)
        live = routes.live()
        if abandon is None or (live is not None and live.name == candidate.name):
            return
        try:
            abandon(candidate.all_containers)
        except engine.EngineError as error:  # the gate's verdict stands; the next cutover
            log(f"cutover: could not stop candidate {candidate.name}: {error}")  # retires it
            return
        log(f"cutover: stopped candidate {candidate.name}: {', '.join(candidate.all_containers)}")

    def _by_hand(self, name: str, chosen: str, log: Log) -> CutoverReport:
        """An operator pointed `live` at release `chosen` during the window: users stay
        there, and no container is stopped (the next successful cutover retires them)."""
        log(f"cutover: an operator switched users to release {chosen}; it keeps serving")
        return CutoverReport(
            False,
            f"an operator switched users from release {name} to release {chosen} during the "
            f"watch window: {chosen} keeps serving and no container was stopped; the "
            "rollback deploys the last healthy commit from there",
        )

    def _probe(
        self,
        routing: RoutingOutput,
        targets: Sequence[HealthTarget],
        private_url: str,
        log: Log,
        cancel: threading.Event,
    ) -> str | None:
        """Why the candidate failed its checks through the private route, or None."""
        checks = gate_targets(routing, targets, private_url)
        report = check_health(checks, self.policy.gate, log, stop=cancel)
        return None if report.healthy else f"health through its private route: {report.summary}"

    def _wait_containers(
        self, names: Sequence[str], log: Log, cancel: threading.Event
    ) -> str | None:
        """Wait until every container runs and passes its healthcheck (if it has one)."""
        deadline = self.clock() + self.policy.gate.deadline_seconds
        while True:
            states = [self.backend.container_state(name) for name in names]
            for state in states:
                if state.status in ("exited", "dead", "missing"):
                    return f"container {state.name} is {state.status} (exit {state.exit_code})"
                if state.health == "unhealthy":
                    return f"container {state.name} failed its healthcheck"
            waiting = [s.name for s in states if s.status != "running" or s.health == "starting"]
            if not waiting:
                log(f"cutover: candidate containers ready: {', '.join(names)}")
                return None
            if self.clock() > deadline or cancel.is_set():
                return f"containers not healthy in time: {', '.join(waiting)}"
            cancel.wait(self.policy.gate.interval_seconds)

    def _watch(
        self, routing: RoutingOutput, targets: Sequence[HealthTarget], routes: ProxyRoutes,
        log: Log, cancel: threading.Event,
    ) -> tuple[float, str] | str | None:  # fmt: skip
        """Probe the public checks for the window: (when, what) at the Nth failure in a row;
        the release's name if an operator pointed `live` elsewhere (the watch ends: the
        checks now probe that release, not this one)."""
        checks = watch_targets(routing, targets)
        if self.policy.watch_seconds <= 0 or not checks:
            return None
        log(f"watch: {self.policy.watch_seconds:g} s, switch back after "
            f"{self.policy.watch_failures} failed round(s) in a row")  # fmt: skip
        end = self.clock() + self.policy.watch_seconds
        failures = Failures(self.policy.watch_failures)
        with httpx.Client(follow_redirects=False) as client:
            while self.clock() < end and not cancel.is_set():
                if moved := _moved_by_hand(routes, expected=routing.release.name):
                    return moved
                results = [probe(client, check) for check in checks]
                bad = [f"{r.target.url} {r.detail}" for r in results if not r.passed]
                if failures.record(bool(bad)):
                    log(f"watch: FAIL {'; '.join(bad)} [{failures.count}/{failures.limit}]")
                    return self.clock(), "; ".join(bad)
                if bad:
                    log(f"watch: FAIL {'; '.join(bad)} [{failures.count}/{failures.limit}]")
                cancel.wait(self.policy.watch_interval_seconds)
        log("watch: the release stayed healthy for the whole window")
        return None

    def _switch_back(
        self,
        routing: RoutingOutput,
        routes: ProxyRoutes,
        live: Release | None,
        failure: tuple[float, str],
        switched_at: float,
        log: Log,
    ) -> CutoverReport:
        detected_at, detail = failure
        name = routing.release.name
        if live is None:
            return CutoverReport(
                False,
                f"release {name} turned unhealthy {detected_at - switched_at:.1f} s after the "
                f"switch ({detail}); there is no previous release to switch back to",
            )
        routes.switch(live.name)  # a rename in the service's own thread: no program to start
        back_at = self.clock()
        log(f"cutover: switched back to release {live.name} "
            f"{back_at - detected_at:.2f} s after the failure was detected")  # fmt: skip
        return CutoverReport(
            False,
            f"release {name} turned unhealthy {detected_at - switched_at:.1f} s after the switch "
            f"({detail}); users are back on release {live.name} (switched "
            f"{back_at - detected_at:.2f} s after detection); users saw {name} for "
            f"{back_at - switched_at:.1f} s",
        )

    def _retire(self, project: str, live: Release, log: Log) -> None:
        keep = set(live.all_containers)
        stale = sorted(n for n in self.backend.release_containers(project) if n not in keep)
        if stale:
            self.backend.remove(stale)
            log(
                f"cutover: stopped and removed the earlier releases' containers: {', '.join(stale)}"
            )


def _moved_by_hand(routes: ProxyRoutes, expected: str | None) -> str | None:
    """The release `live` names when it is not `expected` (someone else switched users:
    the runbook's switch by hand), else None."""
    now = routes.live()
    name = now.name if now else None
    return name if name != expected else None


@dataclass
class Failures:
    """Failed watch rounds in a row; `record` is True when `limit` is reached."""

    limit: int
    count: int = 0

    def record(self, failed: bool) -> bool:
        self.count = self.count + 1 if failed else 0
        return self.count >= self.limit
