# The Slipway webhook service: Python, the runtime requirements, git, and the Pulumi CLI
# at a pinned version verified by checksum. Runs `python -m webhook serve` as a non-root
# user; the state directory (SQLite, git mirror, worktrees, Pulumi plugins) is a volume.
# Built by the control stack (components/deploy_service) or by hand:
#   docker build -t slipway-webhook:local .
# Without a registry or Pulumi downloads (our machines): scripts/service-image.sh builds this
# same file FROM a local Debian base, with the CLI and plugins of the pinned toolchain
# (docs/install.md, "Building the image without a registry").
# The image holds no secret: every secret arrives as an environment variable at run time.
# No `# syntax=` line: it would make BuildKit fetch its frontend from a registry; the
# engine's built-in frontend reads everything used here, and so does the legacy builder.

# The base image: Python 3.11 on Debian bookworm with `python` on PATH.
ARG BASE_IMAGE=python:3.11.14-slim-bookworm
# The Pulumi CLI: the same version as the toolchain (toolchain/pulumi/go.mod, checked by
# tests/deploy_service/test_image.py). To upgrade: change the version and both checksums
# together (docs/install.md, "Upgrading the service"); a version without its checksum, or a
# download that does not match it, fails the build.
ARG PULUMI_VERSION=3.274.1
ARG PULUMI_SHA256_X64=
ARG PULUMI_SHA256_ARM64=
# Where /opt/pulumi (the CLI and its language hosts) and /opt/pulumi-plugins (provider
# plugins, seeded into PULUMI_HOME) come from: the stage below (the release download), or a
# local image holding both, made from the toolchain by scripts/service-image.sh.
ARG PULUMI_CLI=pulumi-release

# --- Pulumi CLI, downloaded and checked against the release's SHA-256 ------------------
# The legacy builder runs every stage, used or not: with another PULUMI_CLI this one does
# nothing (BuildKit skips it altogether).
FROM ${BASE_IMAGE} AS pulumi-release
ARG PULUMI_CLI
ARG PULUMI_VERSION
ARG PULUMI_SHA256_X64
ARG PULUMI_SHA256_ARM64
# Set by BuildKit; the legacy builder leaves it empty and the host's architecture is used.
ARG TARGETARCH
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
# Debian package versions are not pinned (DL3008): the archive drops superseded versions at
# every point release, so pins would break rebuilds; the base image tag pins the release.
# hadolint ignore=DL3008
RUN if [ "${PULUMI_CLI}" != pulumi-release ]; then exit 0; fi \
 && apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/*
RUN if [ "${PULUMI_CLI:-pulumi-release}" != pulumi-release ]; then \
      echo "the Pulumi CLI comes from ${PULUMI_CLI}: no download"; exit 0; fi \
 && arch="${TARGETARCH:-$(dpkg --print-architecture)}" \
 && case "${arch}" in \
      amd64) pulumi_arch=x64; sha256="${PULUMI_SHA256_X64}"; sha_arg=PULUMI_SHA256_X64 ;; \
      arm64) pulumi_arch=arm64; sha256="${PULUMI_SHA256_ARM64}"; sha_arg=PULUMI_SHA256_ARM64 ;; \
      *) echo "unsupported architecture '${arch}': build for linux/amd64 or linux/arm64" >&2; exit 1 ;; \
    esac \
 && if ! [[ "${sha256}" =~ ^[0-9a-f]{64}$ ]]; then \
      echo "no SHA-256 pinned for pulumi-v${PULUMI_VERSION}-linux-${pulumi_arch}.tar.gz" \
           "(${sha_arg}='${sha256}'): set ${sha_arg} in the Dockerfile to the value in the" \
           "release's pulumi-${PULUMI_VERSION}-checksums.txt (docs/install.md, \"Upgrading the" \
           "service\"), or pass --build-arg ${sha_arg}=<sha256>" >&2; \
      exit 1; fi \
 && curl -fsSL --retry 3 -o /tmp/pulumi.tar.gz \
      "https://get.pulumi.com/releases/sdk/pulumi-v${PULUMI_VERSION}-linux-${pulumi_arch}.tar.gz" \
 && echo "${sha256}  /tmp/pulumi.tar.gz" | sha256sum -c - \
 && tar -xzf /tmp/pulumi.tar.gz -C /opt \
 && rm /tmp/pulumi.tar.gz \
 && mkdir -p /opt/pulumi-plugins \
 && /opt/pulumi/pulumi version

# The stage or image the CLI is taken from (see PULUMI_CLI above).
FROM ${PULUMI_CLI} AS pulumi-cli

# --- Python dependencies in a virtual environment ---------------------------------------
FROM ${BASE_IMAGE} AS python-deps
ENV PIP_DISABLE_PIP_VERSION_CHECK=1
# The runtime lock: every package pinned and checked by hash (make lock writes it).
COPY requirements.lock /tmp/requirements.lock
RUN python -m venv /opt/venv \
 && /opt/venv/bin/pip install --no-cache-dir --require-hashes --no-deps -r /tmp/requirements.lock

# --- The service image --------------------------------------------------------------------
FROM ${BASE_IMAGE}
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
 && install -d -o slipway -g slipway -m 0750 /var/lib/slipway /var/lib/slipway/pulumi-home
COPY --from=pulumi-cli /opt/pulumi /opt/pulumi
# Provider plugins that came with the CLI (none from the release: the service installs them
# on demand); a new state volume starts with them.
COPY --from=pulumi-cli --chown=10001:10001 /opt/pulumi-plugins /var/lib/slipway/pulumi-home/plugins
COPY --from=python-deps /opt/venv /opt/venv
# The CLI must be the version this image is labelled with, whichever way it came in.
RUN installed="$(/opt/pulumi/pulumi version)" \
 && if [ "${installed}" != "v${PULUMI_VERSION}" ]; then \
      echo "the Pulumi CLI is ${installed}, not v${PULUMI_VERSION} (PULUMI_VERSION): build it" \
           "from the same version (scripts/toolchain.sh, toolchain/pulumi/go.mod)" >&2; \
      exit 1; fi
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
