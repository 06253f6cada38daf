"""docs/install.md's production path, for real, on this machine (`make control-up`).

`scripts/control.sh up` applies the control stack with the bare CLI (`pulumi up -s control`)
over ssh://deploy@127.0.0.1 (scripts/vps-lab.sh): the service image built by the engine from
the repository's Dockerfile, the service container (user 10001, the engine's socket through
its group) and Caddy with its own CA on https://localhost. The app repository is served by
git daemon and the app stack's state lives in an S3 object store, both on loopback. Then a
signed push goes through Caddy to the container, which clones, deploys the demo app on the
same engine, health-checks it from inside its container, and rolls a bad commit back; the
deploy client drives a deploy over HTTPS; the engineer sees the service's stack.

One trial at a time: it takes ports 80 and 443 and the fixed names `slipway-webhook` and
`slipway-caddy`, and `control.sh down` at the end removes a `make control-up` trial too.
"""

from __future__ import annotations

import json
import os
import re
import ssl
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.e2e.demo_repo import DemoRepo, git
from tests.feedback.test_end_to_end import push
from webhook.http.signature import sign

pytestmark = [pytest.mark.pulumi_cli, pytest.mark.docker_engine, pytest.mark.slow]

REPO_ROOT = Path(__file__).resolve().parents[2]
CONTROL = REPO_ROOT / "scripts" / "control.sh"
TRIAL = Path(os.environ.get("SLIPWAY_CACHE_DIR", Path.home() / ".cache" / "slipway")) / (
    "control-trial"
)
APP_STACK, APP_PROJECT, APP_PORT = "trial", "slipway-trial", 18080
FINAL = {"succeeded", "failed", "rolled_back", "rollback_failed", "superseded", "interrupted"}
DEPLOY_LIMIT = 420.0  # bounds the waits below (a build, an up, a rollback); never asserted on


def run(*args: str, env: dict[str, str], timeout: float = 900) -> subprocess.CompletedProcess:
    return subprocess.run(
        args, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=timeout,
        check=False,
    )  # fmt: skip


def docker(*args: str) -> str:
    result = subprocess.run(
        ["docker", *args], capture_output=True, text=True, timeout=60, check=True
    )
    return result.stdout.strip()


@dataclass
class Trial:
    url: str
    ca: Path
    env: dict[str, str]  # the test's environment with the control stack's backend
    first_up: str  # control.sh's output of the first `up`

    def tls(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca))

    def client(self) -> httpx.Client:
        token = (TRIAL / "api-token").read_text().strip()
        return httpx.Client(
            base_url=self.url, verify=self.tls(), timeout=15,
            headers={"Authorization": f"Bearer {token}"},
        )  # fmt: skip

    def deliver_push(self, examples: Path, sha: str) -> int:
        """A signed push delivery through Caddy, as GitHub sends it; the deployment's id."""
        body = json.dumps(push(examples, sha)).encode()
        secret = (TRIAL / "webhook-secret").read_text().strip().encode()
        answer = httpx.post(
            f"{self.url}/hooks/github",
            content=body,
            verify=self.tls(),
            timeout=15,
            headers={
                "Content-Type": "application/json",
                "X-GitHub-Event": "push",
                "X-GitHub-Delivery": str(uuid.uuid4()),
                "X-Hub-Signature-256": sign(secret, body),
            },
        )
        assert answer.status_code == 202, answer.text
        return answer.json()["id"]

    def wait(self, deployment_id: int) -> dict:
        with self.client() as api:
            deadline = time.monotonic() + DEPLOY_LIMIT
            while time.monotonic() < deadline:
                found = api.get(f"/deployments/{deployment_id}").json()
                if found["state"] in FINAL:
                    return found
                time.sleep(1)
        raise AssertionError(f"deployment {deployment_id} never ended:\n{self.log(deployment_id)}")

    def log(self, deployment_id: int) -> str:
        with self.client() as api:
            lines = api.get(f"/deployments/{deployment_id}/log").json()["lines"]
        return "\n".join(line["line"] for line in lines[-40:])


@pytest.fixture(scope="module")
def trial(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Trial]:
    backend = tmp_path_factory.mktemp("control-backend")
    env = {**os.environ, "PULUMI_BACKEND_URL": f"file://{backend}"}
    env.pop("PULUMI_CONFIG_PASSPHRASE", None)
    env.pop("PULUMI_CONFIG_PASSPHRASE_FILE", None)
    up = run("bash", str(CONTROL), "up", env=env)
    try:
        assert up.returncode == 0, f"control.sh up failed:\n{up.stdout}\n{up.stderr[-6000:]}"
        fields = dict(line.split(": ", 1) for line in up.stdout.splitlines()[-2:])
        yield Trial(fields["url"], Path(fields["ca"]), env, up.stderr)
    finally:
        down = run("bash", str(CONTROL), "down", env=env)
        assert down.returncode == 0, f"control.sh down failed:\n{down.stderr[-4000:]}"


@pytest.fixture(scope="module")
def app(trial: Trial, tmp_path_factory: pytest.TempPathFactory) -> DemoRepo:
    """A clone of the repository the service deploys; its releases are pushed to it."""
    path = tmp_path_factory.mktemp("app") / "app"
    subprocess.run(
        ["git", "clone", "-q", str(TRIAL / "repos" / "app.git"), str(path)],
        check=True, timeout=60,
    )  # fmt: skip
    git(path, "config", "user.email", "trial@slipway.test")
    git(path, "config", "user.name", "trial")
    return DemoRepo(path, APP_STACK, APP_PROJECT, APP_PORT)


def release(app: DemoRepo, sha: str) -> None:
    git(app.path, "push", "-q", "origin", f"{sha}:refs/heads/main")


def test_control_up_serves_the_service_over_https_with_its_ca(trial: Trial) -> None:
    assert trial.url == "https://localhost"
    assert trial.ca.is_file()
    # As the user would: curl with the CA and nothing else.
    ok = subprocess.run(
        ["curl", "-fsS", "--cacert", str(trial.ca), f"{trial.url}/healthz"],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert ok.returncode == 0 and json.loads(ok.stdout) == {"status": "ok"}, ok.stderr
    untrusted = subprocess.run(
        ["curl", "-fsS", f"{trial.url}/healthz"], capture_output=True, timeout=30, check=False
    )
    assert untrusted.returncode == 60  # the certificate is the trial CA's, not a public one
    ready = httpx.get(f"{trial.url}/readyz", verify=trial.tls(), timeout=15)
    assert ready.status_code == 200, ready.text


def test_the_stack_was_applied_by_the_bare_cli_over_ssh(trial: Trial) -> None:
    assert "pulumi up -s control over ssh://deploy@127.0.0.1:" in trial.first_up
    logins = (TRIAL.parent / "vps-lab" / "sshd.log").read_text()
    assert "Accepted publickey for deploy" in logins


def test_the_service_runs_as_install_md_declares(trial: Trial) -> None:
    inspect = json.loads(docker("inspect", "slipway-webhook"))[0]
    socket = os.environ["DOCKER_HOST"].removeprefix("unix://")
    assert inspect["Config"]["User"] == "10001:10001"
    assert inspect["HostConfig"]["GroupAdd"] == [str(os.stat(socket).st_gid)]
    assert inspect["HostConfig"]["NetworkMode"] == "host"
    assert inspect["HostConfig"]["RestartPolicy"]["Name"] == "unless-stopped"
    assert inspect["State"]["Health"]["Status"] == "healthy"
    assert docker("exec", "slipway-webhook", "id", "-u") == "10001"
    proxy = json.loads(docker("inspect", "slipway-caddy"))[0]
    assert proxy["HostConfig"]["RestartPolicy"]["Name"] == "unless-stopped"


def test_a_second_control_up_changes_nothing(trial: Trial) -> None:
    again = run("bash", str(CONTROL), "up", env=trial.env)
    assert again.returncode == 0, again.stderr[-4000:]
    summary = again.stderr[again.stderr.rindex("Resources:") :]
    assert re.match(r"Resources:\s+\d+ unchanged\s+Duration", summary), summary


def test_a_signed_push_deploys_through_the_container_and_a_bad_one_rolls_back(
    trial: Trial, app: DemoRepo, octokit_examples_dir: Path
) -> None:
    good = app.healthy("r1")
    release(app, good)
    first = trial.wait(trial.deliver_push(octokit_examples_dir, good))
    assert (first["sha"], first["state"]) == (good, "succeeded"), trial.log(first["id"])
    assert httpx.get(app.health_url, timeout=5).text.strip() == "ok release=r1"

    bad = app.unhealthy("r2")
    release(app, bad)
    second = trial.wait(trial.deliver_push(octokit_examples_dir, bad))
    assert second["state"] == "rolled_back", trial.log(second["id"])
    assert "rollback" in trial.log(second["id"])
    assert httpx.get(app.health_url, timeout=5).text.strip() == "ok release=r1"


def test_the_deploy_client_drives_a_deploy_over_https(trial: Trial, app: DemoRepo) -> None:
    sha = app.healthy("r3")
    release(app, sha)
    env = {
        **os.environ,
        "SLIPWAY_URL": trial.url,
        "SLIPWAY_TOKEN": (TRIAL / "api-token").read_text().strip(),
        "SSL_CERT_FILE": str(trial.ca),
    }
    client = run(
        sys.executable, "-m", "deploy_client", "deploy", "--sha", sha, "--wait",
        "--timeout", str(int(DEPLOY_LIMIT)), env=env, timeout=DEPLOY_LIMIT + 60,
    )  # fmt: skip
    assert client.returncode == 0, client.stdout + client.stderr
    assert httpx.get(app.health_url, timeout=5).text.strip() == "ok release=r3"


def test_the_engineer_sees_the_stack_the_service_deployed(trial: Trial, app: DemoRepo) -> None:
    exports = run("bash", str(CONTROL), "env", env=trial.env)
    assert exports.returncode == 0, exports.stderr
    script = f"{exports.stdout}\npulumi stack ls --json"
    listed = run("bash", "-c", script, env=trial.env, timeout=120)
    assert listed.returncode == 0, listed.stderr
    stacks = {s["name"]: s for s in json.loads(listed.stdout)}
    assert stacks[APP_STACK]["resourceCount"] > 0, listed.stdout
