"""`python -m deploy_client`: deploy, check health from outside, roll back.

    SLIPWAY_URL=https://deploy.example.com SLIPWAY_TOKEN=... \\
        python -m deploy_client deploy --sha "$GITHUB_SHA" --wait --timeout 1200
    python -m deploy_client health --url https://app.example.com/healthz --timeout 300
    python -m deploy_client rollback --deployment 42 --wait

Exit codes: 0 done (deployment succeeded / healthy); 1 the deployment ended in another
state, or the URLs stayed unhealthy; 2 bad arguments or environment; 3 the service could not
be reached or refused the request; 4 no final state before --timeout; 5 (with --wait) the
service recorded the request but cannot run deployments now, and said why (GET /readyz).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from deploy_client.api import ApiError, ClientConfigError, DeployApi, Deployment
from deploy_client.output import Reporter
from deploy_client.retrying import ATTEMPTS, GaveUp
from deploy_client.waiting import SUCCEEDED, WaitPolicy, WaitTimeout, wait_for_final
from webhook.health import HealthConfigError, HealthPolicy, check_health, parse_health_checks
from webhook.retry_policy import RetryPolicy

EXIT_OK, EXIT_NOT_SUCCEEDED, EXIT_USAGE, EXIT_UNREACHABLE, EXIT_TIMEOUT = 0, 1, 2, 3, 4
EXIT_CANNOT_DEPLOY = 5
_SHA = re.compile(r"[0-9a-f]{7,40}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m deploy_client",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--attempts", type=int, default=ATTEMPTS, help="tries per request")
    commands = parser.add_subparsers(dest="command", required=True)

    deploy = commands.add_parser("deploy", help="ask the service to deploy a commit")
    deploy.add_argument("--sha", required=True, help="full or abbreviated commit SHA")
    deploy.add_argument("--ref", default="", help="the ref it came from, for the record")
    _add_wait_options(deploy)

    health = commands.add_parser("health", help="check public URLs until they pass N times")
    health.add_argument(
        "--url",
        action="append",
        default=[],
        help="URL to check (repeatable); default: SLIPWAY_HEALTH_URLS, whitespace-separated",
    )
    health.add_argument("--status", type=int, default=200, help="expected HTTP status")
    health.add_argument("--passes", type=int, default=3, help="passes in a row for each URL")
    health.add_argument("--interval", type=float, default=5.0, help="seconds between rounds")
    health.add_argument("--request-timeout", type=float, default=10.0)
    health.add_argument("--timeout", type=float, default=300.0, help="give up after (s)")

    rollback = commands.add_parser("rollback", help="deploy the last good commit again")
    rollback.add_argument("--deployment", type=int, required=True, help="the deployment id")
    _add_wait_options(rollback)
    return parser


def _add_wait_options(command: argparse.ArgumentParser) -> None:
    command.add_argument("--wait", action="store_true", help="wait for the final state")
    command.add_argument("--timeout", type=float, default=WaitPolicy.timeout)
    command.add_argument("--poll-interval", type=float, default=WaitPolicy.poll_interval)


@dataclass
class Session:
    """What one command works with: the API, the output, and the waiting rules and clock."""

    api: DeployApi
    out: Reporter
    env: Mapping[str, str]
    waiting: WaitPolicy
    sleep: Callable[[float], None]
    clock: Callable[[], float]


def main(
    argv: Sequence[str] | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    policy: RetryPolicy | None = None,
    wait_policy: WaitPolicy | None = None,
) -> int:
    """Run one command; returns the exit code. The keyword arguments are for tests."""
    args = build_parser().parse_args(argv)
    env = os.environ if environ is None else environ
    token = env.get("SLIPWAY_TOKEN", "")
    out = Reporter(secrets=[token], annotate=env.get("GITHUB_ACTIONS") == "true")
    try:
        if args.command == "health":
            return _health(args, env, out)
        if args.attempts < 1:
            raise ClientConfigError("--attempts must be at least 1")
        base_url = env.get("SLIPWAY_URL", "")
        if not base_url:
            raise ClientConfigError(
                "SLIPWAY_URL is not set: export the webhook service's base URL "
                "(in Actions it comes from the DEPLOY_URL secret)"
            )
        retry = policy or RetryPolicy(attempts=args.attempts)
        waiting = wait_policy or WaitPolicy(timeout=args.timeout, poll_interval=args.poll_interval)
        with DeployApi(base_url, token, policy=retry, report=out.line, sleep=sleep) as api:
            session = Session(api, out, env, waiting, sleep, clock)
            if args.command == "deploy":
                return _deploy(session, args)
            return _rollback(session, args)
    except ClientConfigError as error:
        out.error(str(error))
        return EXIT_USAGE
    except (GaveUp, ApiError) as error:
        out.error(str(error))
        return EXIT_UNREACHABLE
    except WaitTimeout as error:
        out.error(str(error))
        return EXIT_TIMEOUT


def _deploy(session: Session, args: argparse.Namespace) -> int:
    sha = args.sha.strip().lower()
    if not _SHA.fullmatch(sha):
        raise ClientConfigError(f"--sha {args.sha!r} is not a commit SHA (7 to 40 hex digits)")
    session.out.line(f"asking {session.api.base_url} to deploy {sha}")
    key = _idempotency_key(session.env, sha)
    deployment = session.api.create_deployment(sha, args.ref, idempotency_key=key)
    session.out.line(f"deployment {deployment.id} accepted ({deployment.state or 'queued'})")
    _write_github_output(session.env, "deployment-id", str(deployment.id))
    return _finish(session, deployment, args.wait)


def _rollback(session: Session, args: argparse.Namespace) -> int:
    session.out.line(f"asking {session.api.base_url} to roll back deployment {args.deployment}")
    deployment = session.api.rollback(args.deployment)
    session.out.line(f"rollback {deployment.id} accepted ({deployment.state or 'queued'})")
    return _finish(session, deployment, args.wait)


def _finish(session: Session, deployment: Deployment, wait: bool) -> int:
    blockers = session.api.blocking_problems()
    if blockers:  # e.g. `make serve` without SLIPWAY_REPO_URL: waiting would only time out
        message = (
            f"deployment {deployment.id} is recorded, but the service cannot run deployments "
            f"now: {' | '.join(blockers)}"
        )
        if wait:
            session.out.error(message)
            return EXIT_CANNOT_DEPLOY
        session.out.line(f"warning: {message}")
    if not wait:
        return EXIT_OK
    final = wait_for_final(
        session.api,
        deployment,
        session.waiting,
        session.out.line,
        clock=session.clock,
        sleep=session.sleep,
    )
    if final.state == SUCCEEDED:
        session.out.line(f"deployment {final.id} succeeded")
        return EXIT_OK
    why = f" after: {final.failure.splitlines()[0][:500]}" if final.failure else ""
    session.out.error(
        f"deployment {final.id} ended {final.state!r}, not 'succeeded'{why}; its log is at "
        f"GET /deployments/{final.id}/log on the service"
    )
    return EXIT_NOT_SUCCEEDED


def _health(args, env: Mapping[str, str], out: Reporter) -> int:
    urls = args.url or env.get("SLIPWAY_HEALTH_URLS", "").replace(",", " ").split()
    if not urls:
        raise ClientConfigError(
            "no URL to check: pass --url (repeatable) or set SLIPWAY_HEALTH_URLS "
            "(in Actions it comes from the HEALTH_URLS secret)"
        )
    if args.passes < 1 or args.timeout <= 0 or args.interval < 0 or args.request_timeout <= 0:
        raise ClientConfigError(
            "--passes must be at least 1 and --timeout, --request-timeout positive"
        )
    try:
        targets = parse_health_checks(
            [
                {"url": url, "status": args.status, "timeoutSeconds": args.request_timeout}
                for url in urls
            ]
        )
    except HealthConfigError as error:
        raise ClientConfigError(str(error).replace("healthChecks", "--url")) from None
    policy = HealthPolicy(
        interval_seconds=args.interval,
        consecutive_passes=args.passes,
        deadline_seconds=args.timeout,
    )
    out.line(f"checking {len(targets)} URL(s): each must pass {args.passes} times in a row")
    report = check_health(targets, policy, out.line)
    if report.healthy:
        out.line(report.summary)
        return EXIT_OK
    out.error(report.summary)
    return EXIT_NOT_SUCCEEDED


def _idempotency_key(env: Mapping[str, str], sha: str) -> str:
    """One key per workflow run attempt (a re-run deploys again), else one per invocation."""
    run_id, attempt = env.get("GITHUB_RUN_ID"), env.get("GITHUB_RUN_ATTEMPT", "1")
    if run_id:
        return f"actions-{env.get('GITHUB_REPOSITORY', '')}-{run_id}-{attempt}-{sha}"[:128]
    return f"client-{uuid.uuid4()}"


def _write_github_output(env: Mapping[str, str], name: str, value: str) -> None:
    """Make `value` a step output when running in Actions ($GITHUB_OUTPUT is set)."""
    path = env.get("GITHUB_OUTPUT")
    if path:
        with Path(path).open("a", encoding="utf-8") as handle:
            handle.write(f"{name}={value}\n")


if __name__ == "__main__":
    sys.exit(main())
