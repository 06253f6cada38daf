# syntax=docker/dockerfile:1
# The Slipway webhook service: Python, the runtime requirements, git, and the Pulumi CLI
# at a pinned version verified by checksum. Runs `python -m webhook serve` as a non-root
# user; the state directory (SQLite, git mirror, worktrees, Pulumi plugins) is a volume.
# Built by the control stack (components/deploy_service) or by hand:
#   docker build -t slipway-webhook:local .
# The image holds no secret: every secret arrives as an environment variable at run time.

ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm
# To upgrade Pulumi: change the version and both checksums together (docs/install.md,
# "Upgrading the service"); a version without its matching checksum fails the build.
ARG PULUMI_VERSION=3.253.0
ARG PULUMI_SHA256_X64=33161e521280e6c77395a46344dba5ff9c118a90df254801e662087143b4d1ac
ARG PULUMI_SHA256_ARM64=7d7074d67a76139226c163b2365f14fbd45d8e2251362a2e10dc4602b3b577ea

# --- Pulumi CLI, downloaded and checked against the release's SHA-256 ------------------
FROM ${PYTHON_IMAGE} AS pulumi-cli
ARG PULUMI_VERSION
ARG PULUMI_SHA256_X64
ARG PULUMI_SHA256_ARM64
# Set by BuildKit; the legacy builder leaves it empty and the host's architecture is used.
ARG TARGETARCH
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
# Debian package versions are not pinned (DL3008): the archive drops superseded versions at
# every point release, so pins would break rebuilds; the base image tag pins the release.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/*
RUN arch="${TARGETARCH:-$(dpkg --print-architecture)}" \
 && case "${arch}" in \
      amd64) pulumi_arch=x64; sha256="${PULUMI_SHA256_X64}" ;; \
      arm64) pulumi_arch=arm64; sha256="${PULUMI_SHA256_ARM64}" ;; \
      *) echo "unsupported architecture '${arch}': build for linux/amd64 or linux/arm64" >&2; exit 1 ;; \
    esac \
 && curl -fsSL --retry 3 -o /tmp/pulumi.tar.gz \
      "https://get.pulumi.com/releases/sdk/pulumi-v${PULUMI_VERSION}-linux-${pulumi_arch}.tar.gz" \
 && echo "${sha256}  /tmp/pulumi.tar.gz" | sha256sum -c - \
 && tar -xzf /tmp/pulumi.tar.gz -C /opt \
 && rm /tmp/pulumi.tar.gz \
 && /opt/pulumi/pulumi version

# --- Python dependencies in a virtual environment ---------------------------------------
FROM ${PYTHON_IMAGE} AS python-deps
ENV PIP_DISABLE_PIP_VERSION_CHECK=1
# The runtime lock: every package pinned and checked by hash (make lock writes it).
COPY requirements.lock /tmp/requirements.lock
RUN python -m venv /opt/venv \
 && /opt/venv/bin/pip install --no-cache-dir --require-hashes --no-deps -r /tmp/requirements.lock

# --- The service image --------------------------------------------------------------------
FROM ${PYTHON_IMAGE}
ARG PULUMI_VERSION
LABEL org.opencontainers.image.title="slipway-webhook" \
      org.opencontainers.image.description="Slipway push-to-deploy webhook service" \
      io.slipway.pulumi-version="${PULUMI_VERSION}"
# git: the orchestrator's mirror and worktrees; openssh-client: ssh repository URLs and
# ssh:// Docker hosts; ca-certificates: HTTPS to GitHub and the Pulumi backend.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates git openssh-client \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 slipway \
 && useradd --system --uid 10001 --gid 10001 --create-home --home-dir /home/slipway \
      --shell /usr/sbin/nologin slipway \
 && install -d -o slipway -g slipway -m 0750 /var/lib/slipway
COPY --from=pulumi-cli /opt/pulumi /opt/pulumi
COPY --from=python-deps /opt/venv /opt/venv
WORKDIR /app
COPY webhook/ /app/webhook/
COPY components/ /app/components/
COPY deploy/healthcheck.py /app/deploy/healthcheck.py
ENV PATH="/opt/venv/bin:/opt/pulumi:${PATH}" \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PULUMI_SKIP_UPDATE_CHECK=true \
    PULUMI_HOME=/var/lib/slipway/pulumi-home \
    PIP_CACHE_DIR=/var/lib/slipway/cache/pip \
    SLIPWAY_STATE_DIR=/var/lib/slipway \
    SLIPWAY_HOST=0.0.0.0 \
    SLIPWAY_PORT=8000
# Numeric, so that runtimes checking for a non-root user can verify it without /etc/passwd.
USER 10001:10001
VOLUME ["/var/lib/slipway"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["python", "/app/deploy/healthcheck.py"]
CMD ["python", "-m", "webhook", "serve"]
