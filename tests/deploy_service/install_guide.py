"""Every command of docs/install.md, and where the production-path test runs it or why not.

`RAN` names the function of scripts/control.sh or the test of test_production_path.py that
runs the command with local values; `NOT_HERE` says why a command cannot run on one machine.
test_install_guide.py fails when the guide gains, loses or changes a command that is not in
one of the two tables, or when a named function or test no longer exists: the guide and
the test cannot drift apart.
"""

from __future__ import annotations

import re

from tests.support.paths import REPO_ROOT

GUIDE = REPO_ROOT / "docs" / "install.md"
CONTROL = "scripts/control.sh"
TEST = "tests/deploy_service/test_production_path.py"
_BLOCK = re.compile(r"^[ \t]*```sh\n(.*?)^[ \t]*```$", re.S | re.M)

NO_DNS = "no public DNS name or certificate here: https://localhost with tls: internal"
NO_GITHUB = "GitHub is not reachable from our machines (the tests use a loopback fake)"
NO_DOWNLOAD = "get.pulumi.com is not reachable: the trial's image takes the toolchain's CLI"
SYSTEMD = "the systemd install is checked by systemd-analyze verify (test_systemd.py); no init here"

RAN: dict[str, str] = {
    "ssh deploy@vps.example.com stat -c %g /var/run/docker.sock": f"{CONTROL}:write_config",
    "ssh deploy@vps.example.com sudo install -d -o 10001 -g 10001 /var/lib/slipway/binds": (
        f"{CONTROL}:write_config"
    ),
    "pulumi stack init control": f"{CONTROL}:up",
    "S=control": f"{CONTROL}:write_config",
    "pulumi config set -s $S --secret slipway:webhookSecret '<the same value as the prod stack>'": (
        f"{CONTROL}:write_config"
    ),
    'TOKEN="$(openssl rand -hex 32)"': f"{CONTROL}:secret_file",
    "pulumi config set -s $S --secret --path 'slipway:serviceSecrets.SLIPWAY_API_TOKEN' "
    '"$TOKEN"': f"{CONTROL}:write_config",
    "pulumi config set -s $S --secret --path 'slipway:serviceSecrets.PULUMI_CONFIG_PASSPHRASE' "
    "'<prod passphrase>'": f"{CONTROL}:write_config",
    "pulumi config set -s $S --secret --path 'slipway:serviceSecrets.AWS_ACCESS_KEY_ID' '…'": (
        f"{CONTROL}:write_config"
    ),
    "pulumi config set -s $S --secret --path 'slipway:serviceSecrets.AWS_SECRET_ACCESS_KEY' "
    "'…'": f"{CONTROL}:write_config",
    "pulumi up -s control": f"{CONTROL}:up",
    "pulumi preview -s control": (
        f"{TEST}:test_upgrading_the_service_during_a_deployment_loses_nothing"
    ),
    "curl -fsS https://deploy.example.com/healthz": (
        f"{TEST}:test_control_up_serves_the_service_over_https_with_its_ca"
    ),
    "ssh deploy@vps.example.com docker ps --filter label=io.slipway.role": (
        f"{TEST}:test_the_service_runs_as_install_md_declares"
    ),
    "bash scripts/with-toolchain.sh bash scripts/service-image.sh slipway-webhook:local": (
        f"{CONTROL}:write_config"
    ),
    "make control-up": f"{TEST}:trial",
    "curl --cacert ~/.cache/slipway/control-trial/ca.crt https://localhost/healthz": (
        f"{TEST}:test_control_up_serves_the_service_over_https_with_its_ca"
    ),
    'eval "$(scripts/with-toolchain.sh bash scripts/control.sh env)"': (
        f"{TEST}:test_the_engineer_sees_the_stack_the_service_deployed"
    ),
    "pulumi stack ls": f"{TEST}:test_the_engineer_sees_the_stack_the_service_deployed",
    "pulumi destroy -s control": f"{CONTROL}:down",
    "ssh deploy@vps.example.com docker volume rm slipway-state slipway-caddy-data "
    "slipway-caddy-config": f"{CONTROL}:down",
    "pulumi stack rm -s control": f"{CONTROL}:down",
}

NOT_HERE: dict[str, str] = {
    "dig +short deploy.example.com": NO_DNS,
    "pulumi login s3://example-pulumi-state": (
        "the control stack's backend is a temporary file backend (PULUMI_BACKEND_URL); the app "
        "stack's S3 login is run by control.sh env"
    ),
    "pulumi config set -s $S --secret --path 'slipway:serviceSecrets.SLIPWAY_GITHUB_TOKEN' '…'": (
        NO_GITHUB
    ),
    "pulumi stack output -s control deployService": (
        "control.sh prints the same url at its end (`url:`), which the test reads"
    ),
    "export GITHUB_TOKEN=…": NO_GITHUB,
    "pulumi up -s prod": NO_GITHUB + "; the trial's app stack is deployed by the service",
    "git pull": "the test runs from the checkout it tests",
    "ssh deploy@vps.example.com docker image rm slipway-webhook:local caddy:2.11.7": (
        "the trial keeps its images as a cache (make control-down says so)"
    ),
    "v=$(sed -n 's/^ARG PULUMI_VERSION=//p' Dockerfile); curl -fsSL \"https://github.com/pulumi/"
    'pulumi/releases/download/v$v/pulumi-$v-checksums.txt" | awk -v v="$v" \'$2 == "pulumi-v" v '
    '"-linux-x64.tar.gz" { print "ARG PULUMI_SHA256_X64=" $1 } $2 == "pulumi-v" v '
    '"-linux-arm64.tar.gz" { print "ARG PULUMI_SHA256_ARM64=" $1 }\'': NO_GITHUB,
    "useradd --system --home-dir /var/lib/slipway --shell /usr/sbin/nologin slipway": SYSTEMD,
    "git clone https://github.com/example/shop.git /opt/slipway": NO_GITHUB,
    "cd /opt/slipway && python3 -m venv .venv && .venv/bin/pip install --require-hashes "
    "--no-deps -r requirements.lock": SYSTEMD,
    "curl -fsSLo /tmp/pulumi.tgz https://get.pulumi.com/releases/sdk/pulumi-v3.274.1-linux-x64"
    ".tar.gz": NO_DOWNLOAD,
    'echo "<PULUMI_SHA256_X64 of 3.274.1> /tmp/pulumi.tgz" | sha256sum -c -': NO_DOWNLOAD,
    "tar -xzf /tmp/pulumi.tgz -C /usr/local/lib && ln -s /usr/local/lib/pulumi/pulumi "
    "/usr/local/bin/pulumi": NO_DOWNLOAD,
    "install -d -m 0750 /etc/slipway": SYSTEMD,
    "install -m 0600 /dev/null /etc/slipway/slipway.env": SYSTEMD,
    "cp deploy/slipway.service /etc/systemd/system/": SYSTEMD,
    "systemctl daemon-reload && systemctl enable --now slipway": SYSTEMD,
    "systemctl status slipway && curl -fsS http://127.0.0.1:8000/healthz": SYSTEMD,
    ".venv/bin/python -m components.deploy_service caddyfile https://deploy.example.com/hooks/"
    "github --email ops@example.com > /etc/caddy/Caddyfile && systemctl reload caddy": (
        "the same Caddyfile is validated by Caddy in test_caddy.py; no system Caddy here"
    ),
}


def guide_commands(text: str) -> list[str]:
    """The commands of the guide's ```sh blocks: continuation lines joined, comments dropped."""
    commands = []
    for block in _BLOCK.findall(text):
        for line in re.sub(r"\\\n\s*", " ", block).splitlines():
            line = re.sub(r"\s+#.*$", "", line.strip())
            if line and not line.startswith("#"):
                commands.append(re.sub(r"\s+", " ", line))
    return commands
