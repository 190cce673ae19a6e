# Developer and CI entry points for bosun.compose. Every tool comes from the bootstrap venv.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

VENV := $(CURDIR)/.venv
PY := $(VENV)/bin/python
# molecule and ansible-runner look their helpers up on PATH.
export PATH := $(VENV)/bin:$(PATH)
# Ansible finds this collection through a symlink farm: bosun/compose -> repository root.
FARM := $(CURDIR)/build/collections
export ANSIBLE_COLLECTIONS_PATH := $(FARM)
# Interpreter discovery picks broken pyenv shims on these machines.
export ANSIBLE_PYTHON_INTERPRETER := $(PY)
export ANSIBLE_NOCOLOR := 1
export ANSIBLE_FORCE_COLOR := 0
# Serial by default: the modules discover jobs daemon-wide, so parallel tests see each other's stacks.
PYTEST_WORKERS ?= 2
PYTEST_ARGS ?=

.PHONY: help bootstrap farm sanity sanity-matrix lint reuse-lint galaxy-import format unit integration molecule pytest ansible-test-units ansible-test-integration test demo bench build docs sweep clean distclean

help:
	@echo "targets: bootstrap sanity sanity-matrix lint reuse-lint galaxy-import format unit integration ansible-test-units ansible-test-integration test demo bench build docs sweep clean distclean"

bootstrap:
	bash scripts/bootstrap.sh

farm:
	@mkdir -p $(FARM)/ansible_collections/bosun
	@ln -sfn $(CURDIR) $(FARM)/ansible_collections/bosun/compose

sanity:
	bash scripts/sanity.sh

# ansible-test sanity on the other controller versions we claim (floor, Debian 12 Python, next release): see the script.
sanity-matrix:
	bash scripts/sanity-matrix.sh

# Python gates: ruff (lint), ruff format (check only; `make format` rewrites) and mypy over plugins/; then
# ansible-lint (production profile) on the whole repository, the changelog and docs linters, reuse, galaxy-importer.
lint: farm
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	cd $(FARM) && $(VENV)/bin/mypy --config-file $(CURDIR)/.mypy.ini ansible_collections/bosun/compose/plugins
	$(VENV)/bin/ansible-lint --offline --profile production
	$(VENV)/bin/antsibull-changelog lint
	cd $(FARM)/ansible_collections/bosun/compose && $(VENV)/bin/antsibull-docs lint-collection-docs --plugin-docs --check-extra-docs-refs .
	$(VENV)/bin/antsibull-changelog lint-changelog-yaml changelogs/changelog.yaml
	@$(MAKE) --no-print-directory reuse-lint galaxy-import

# REUSE (licensing metadata) compliance: REUSE.toml + LICENSES/. reuse lives in build/venv-reuse.
REUSE_PIN := reuse==6.2.0
reuse-lint:
	"$$(bash scripts/tool-venv.sh reuse 3.12 $(REUSE_PIN))/bin/reuse" lint --lines

# galaxy-importer on the built tarball, Galaxy's checks and Automation Hub's strict ones (scripts/galaxy-import.sh).
galaxy-import: build
	bash scripts/galaxy-import.sh

format:
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

unit: farm
	$(PY) -m pytest tests/unit

integration: farm
	$(PY) -m pytest tests/integration

# The role's molecule scenario (extensions/molecule/default, delegated driver) against the local Docker Engine.
molecule: farm
	cd $(CURDIR) && $(VENV)/bin/molecule test --scenario-name default

# Everything but the dockerd restart in PYTEST_WORKERS parallel workers (the tests isolate themselves by
# project, run id and state dir), then the dockerd restart alone: it stops every container on the machine.
# pytest exits 5 when it collects nothing; that is a failure here, on purpose.
ZZ := tests/integration/test_zz_dockerd_restart.py
pytest: farm
	@$(PY) -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS) --ignore=$(ZZ) tests/unit tests/integration || { \
	  rc=$$?; [ $$rc -ne 5 ] || echo "pytest collected no tests: failing on purpose" >&2; exit $$rc; }
	@$(PY) -m pytest $(PYTEST_ARGS) $(ZZ)

# The standard runners on a copy of the collection (scripts/ansible-test.sh): ansible-test units (about 45 s) and
# the smoke targets of tests/integration/targets against the local Docker Engine (about 100 s).
ansible-test-units:
	bash scripts/ansible-test.sh units

ansible-test-integration:
	bash scripts/ansible-test.sh integration

test: bootstrap
	@$(MAKE) --no-print-directory sanity sanity-matrix lint molecule ansible-test-units ansible-test-integration
	@$(MAKE) --no-print-directory pytest

# ENGINE=podman: the same demo on rootful Podman's Docker-compatible API.
ENGINE ?= docker
demo: bootstrap farm
	ENGINE=$(ENGINE) bash scripts/demo.sh

# Performance figures of issue 7 against the local Docker Engine (not part of test; see docs/performance.md).
# BENCH_ROUNDS, BENCH_ONLY, ... are read from the environment.
bench: bootstrap farm
	$(PY) bench/run.py

# The HTML docsite (plugin, role and docs/docsite/rst guide pages) in build/docsite/build/html, with
# antsibull-docs and Sphinx from their own venv in build/docs-venv (docs/docsite/requirements.txt).
docs: bootstrap
	bash scripts/docs.sh

build:
	@mkdir -p build
	$(VENV)/bin/ansible-galaxy collection build --force --output-path build .

# Remove every bosun-it-* Compose project (the test session itself only sweeps ones older than 30 min).
sweep:
	$(PY) tests/integration/harness.py sweep

clean:
	rm -rf build collections tests/output .pytest_cache .hypothesis .ansible
	find . -path ./.venv -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +

distclean: clean
	rm -rf .venv
