# ClusterXchange matching platform. The two commands that matter:
#   make run    set up, start the infrastructure and every service with demo data; Ctrl-C stops all
#   make test   set up, start the infrastructure, run every test on the real components, stop it again
SHELL := /bin/bash
.DEFAULT_GOAL := help
UV ?= $(shell command -v uv 2>/dev/null || echo "$(HOME)/.local/bin/uv")
PYTEST_ARGS ?=

.PHONY: help setup run test lint format browser-tools screenshots test-unit test-integration infra-up infra-down infra-status schemas

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-18s %s\n", $$1, $$2}'

$(UV):
	python3 -m pip install --user --quiet "uv>=0.9,<0.14"

setup: $(UV) ## install Python 3.11 deps of every service into .venv (from uv's cache when warm)
	$(UV) sync --frozen --all-packages

run: setup ## start infrastructure, services, gateway and demo data; Ctrl-C stops everything
	bash deploy/local/run.sh

lint: setup ## ruff (format and lint) and mypy over the whole tree, as make test runs them
	$(UV) run --no-sync ruff format --check .
	$(UV) run --no-sync ruff check .
	$(UV) run --no-sync mypy

format: setup ## apply ruff's formatting and its safe fixes
	$(UV) run --no-sync ruff format .
	$(UV) run --no-sync ruff check --fix .

browser-tools: ## Debian's chromium (installed as root) and axe-core from the committed npm lock, for tests/browser
	bash tests/browser/install_tools.sh

test: setup lint browser-tools ## lint and type-check, then run the whole suite against real Kafka, FerretDB and Mailpit
	@bash deploy/local/infra.sh up
	@set +e; CX_KEEP_INFRA=1 $(UV) run --no-sync pytest $(PYTEST_ARGS); status=$$?; \
	  bash deploy/local/infra.sh down; exit $$status

screenshots: setup browser-tools ## run the browser tests and write their pictures to docs/screenshots (shown in README)
	@bash deploy/local/infra.sh up
	@set +e; CX_KEEP_INFRA=1 CX_SCREENSHOTS_DIR=$(CURDIR)/docs/screenshots $(UV) run --no-sync pytest tests/browser \
	  $(PYTEST_ARGS); status=$$?; bash deploy/local/infra.sh down; exit $$status

test-unit: setup ## only the pure tests (no infrastructure)
	$(UV) run --no-sync pytest -m unit $(PYTEST_ARGS)

test-integration: setup browser-tools ## only the tests on the real components (the browser tests among them)
	$(UV) run --no-sync pytest -m "integration or e2e or browser" $(PYTEST_ARGS)

infra-up: setup ## fetch once, then start Kafka (9092), FerretDB (27017), Mailpit (1025/8025) and create the topics
	bash deploy/local/infra.sh up

infra-down: ## stop the local infrastructure
	bash deploy/local/infra.sh down

infra-status: ## one line per component
	bash deploy/local/infra.sh status

schemas: setup ## regenerate the committed JSON Schema and AsyncAPI snapshots after a contract change
	$(UV) run --no-sync python -m cx_contracts.schemas --write
