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

from tests.support.demo_repo import DemoRepo
from tests.support.git import git
from tests.support.paths import REPO_ROOT
from tests.support.payloads import push
from webhook.http.signature import sign

pytestmark = [pytest.mark.pulumi_cli, pytest.mark.docker_engine, pytest.mark.slow]

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
    # A clean slate: whatever an earlier trial on this machine left (its containers,
    # store, lab, folder) would collide with this one.
    run("bash", str(CONTROL), "down", env=env)
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


def start_slow_deployment(trial: Trial, app: DemoRepo, name: str, seconds: int) -> dict:
    """Push a release whose image build takes `seconds` and ask the service to deploy it;
    return the deployment once it runs."""
    sha = app.slow(name, seconds)
    release(app, sha)
    with trial.client() as api:
        running = api.post("/deployments", json={"sha": sha}).json()
        deadline = time.monotonic() + DEPLOY_LIMIT
        while (state := api.get(f"/deployments/{running['id']}").json()["state"]) != "running":
            assert state not in FINAL and time.monotonic() < deadline, trial.log(running["id"])
            time.sleep(0.5)
    return running


def control_cli_env(trial: Trial) -> dict[str, str]:
    """The engineer's environment for `pulumi … -s control` as control.sh left it: the
    control stack's backend and passphrase, the lab's ssh route to the engine."""
    lab = run("bash", str(REPO_ROOT / "scripts" / "vps-lab.sh"), "env", env=trial.env)
    assert lab.returncode == 0, lab.stderr
    exported = run("bash", "-c", f"{lab.stdout}\nenv -0", env=trial.env, timeout=60).stdout
    env = dict(item.split("=", 1) for item in exported.split("\0") if "=" in item)
    backend = trial.env["PULUMI_BACKEND_URL"].removeprefix("file://")
    return {**env, "PULUMI_CONFIG_PASSPHRASE_FILE": f"{backend}/.passphrase"}


def test_upgrading_the_service_during_a_deployment_loses_nothing(
    trial: Trial, app: DemoRepo
) -> None:
    """install.md, "Upgrading the service": `pulumi up -s control` with a changed setting
    while a deployment runs. That deployment finishes within the grace period (or is
    recorded `interrupted` and recovered), no record is lost, the new container serves."""
    with trial.client() as api:
        before = {d["id"] for d in api.get("/deployments", params={"limit": 100}).json()["items"]}
    old_container = docker("inspect", "-f", "{{.Id}}", "slipway-webhook")
    running = start_slow_deployment(trial, app, "r4", 40)

    env = control_cli_env(trial)
    config = ["-s", "control", "--config-file", str(TRIAL / "Pulumi.control.yaml")]
    changed = run("pulumi", "config", "set", *config, "--path", "slipway:service.logLevel",
                  "debug", env=env)  # fmt: skip
    assert changed.returncode == 0, changed.stderr
    # The guide's check before an upgrade: the service container is replaced, nothing else.
    preview = run("pulumi", "preview", *config, env=env)
    assert preview.returncode == 0, preview.stdout[-4000:] + preview.stderr[-2000:]
    changed_lines = [line for line in preview.stdout.splitlines() if line.startswith(" +-")]
    assert len(changed_lines) == 1 and "slipway-service" in changed_lines[0], preview.stdout
    upgrade = run("pulumi", "up", *config, "--yes", "--skip-preview", env=env)
    assert upgrade.returncode == 0, upgrade.stdout[-4000:] + upgrade.stderr[-2000:]

    assert docker("inspect", "-f", "{{.Id}}", "slipway-webhook") != old_container
    env_lines = docker("inspect", "-f", "{{range .Config.Env}}{{println .}}{{end}}",
                       "slipway-webhook").splitlines()  # fmt: skip
    assert "SLIPWAY_LOG_LEVEL=debug" in env_lines
    ended = trial.wait(running["id"])
    with trial.client() as api:
        listed = api.get("/deployments", params={"limit": 100}).json()["items"]
    after = {d["id"]: d for d in listed}
    assert before | {running["id"]} <= set(after), "a deployment record was lost"
    if ended["state"] == "interrupted":  # then the new container recovers the stack
        recovered = [d for d in after.values() if d["id"] > running["id"]]
        assert recovered and trial.wait(recovered[-1]["id"])["state"] == "succeeded", trial.log(
            running["id"]
        )
    else:
        assert ended["state"] == "succeeded", trial.log(running["id"])
    assert httpx.get(app.health_url, timeout=5).text.strip() in ("ok release=r4",)


def engine_answers() -> bool:
    return subprocess.run(["docker", "version"], capture_output=True, timeout=30).returncode == 0


def restart_engine(env: dict[str, str]) -> None:
    """Stop the project's engine and start it again; whatever happens, it runs afterwards
    (the rest of the suite needs it)."""
    engine = str(REPO_ROOT / "scripts" / "docker-engine.sh")
    try:
        stopped = run("bash", engine, "stop", env=env, timeout=240)
        # Wait for the stop to end even when the script gave up: a start while the old
        # daemon still answers would start nothing, and the engine would then be gone.
        deadline = time.monotonic() + 240
        while engine_answers():
            assert time.monotonic() < deadline, f"the engine still answers:\n{stopped.stderr}"
            time.sleep(0.5)
        assert stopped.returncode == 0, stopped.stderr
    finally:
        deadline = time.monotonic() + 120
        while True:
            started = run("bash", engine, "start", env=env, timeout=120)
            if started.returncode == 0 and engine_answers():
                break
            assert time.monotonic() < deadline, f"the engine did not start:\n{started.stderr}"
            time.sleep(2)


def test_the_service_and_caddy_come_back_when_the_engine_restarts(
    trial: Trial, app: DemoRepo
) -> None:
    """install.md: both containers are `restart: unless-stopped`. The engine stopping in the
    middle of a deployment (a reboot, an upgrade of Docker) and starting again brings them
    back with their records, and `/readyz` says what the service recovered."""
    running = start_slow_deployment(trial, app, "r5", 60)
    with trial.client() as api:
        before = api.get("/deployments", params={"limit": 100}).json()["items"]
    restart_engine(trial.env)
    deadline = time.monotonic() + 180
    while True:
        try:
            answer = httpx.get(f"{trial.url}/readyz", verify=trial.tls(), timeout=5)
            if answer.status_code == 200:
                break
        except httpx.HTTPError as error:
            answer = error
        assert time.monotonic() < deadline, f"not back after the engine restarted: {answer!r}"
        time.sleep(1)
    # The stopping engine ends the release's image build, so the deployment may still record
    # its own failure before the service is stopped; if the service went first, it is
    # `interrupted` and the start's recovery says so in /readyz.
    recovered = {item["deployment"]: item for item in answer.json()["recovered"]}
    ended = trial.wait(running["id"])
    assert ended["state"] != "succeeded", trial.log(running["id"])
    if ended["state"] == "interrupted":
        assert running["id"] in recovered, answer.text
    with trial.client() as api:
        after = api.get("/deployments", params={"limit": 100}).json()["items"]
    assert {d["id"] for d in before} <= {d["id"] for d in after}
    assert docker("inspect", "-f", "{{.State.Health.Status}}", "slipway-caddy") != "unhealthy"


def test_the_checkout_is_left_as_it_was(trial: Trial) -> None:
    """Stack commands run in the trial's own project folder: `stack init` would write the
    passphrase's salt into the checkout's Pulumi.control.yaml, `stack rm` delete it."""
    diff = subprocess.run(
        ["git", "status", "--porcelain", "--", "Pulumi.control.yaml", "Pulumi.trial.yaml"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=30, check=True,
    )  # fmt: skip
    assert diff.stdout == ""
