# indgang: everything runs on this machine, no Docker needed.
#   make up      sync + infrastructure (Kafka, store, mail catcher) + the four services
#   make test    sync + infrastructure + pytest
#   make unit    the tests that need no broker, store or browser (seconds, nothing started)
#   make audit   known-vulnerable dependencies (pip-audit) and a secret scan (detect-secrets)
#   make down    stop services and infrastructure (data stays in var/)
# See deploy/README.md.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

# uv from PATH, else the one `pip install uv` put into this Python.
UV = $(shell command -v uv 2>/dev/null || echo python3 -m uv)
export UV

.PHONY: help ensure-uv sync browser infra-up infra-down infra-status services-up services-down \
	up down status test unit lint audit audit-deps audit-secrets bench prove contracts

help:
	@echo "make up | down | status | test | unit | lint | audit | bench | prove | contracts | sync | infra-up | infra-down"

ensure-uv:
	@command -v uv >/dev/null 2>&1 || python3 -m uv --version >/dev/null 2>&1 || { \
		echo "uv not found: installing it with pip"; \
		python3 -m pip install --quiet uv || python3 -m pip install --quiet --break-system-packages uv; }

sync: ensure-uv
	$(UV) sync --frozen
	@# Front-end assets (dkfds, axe-core) from the npm registry, pinned by package-lock.json.
	@if [ ! -d node_modules ] || [ package-lock.json -nt node_modules ]; then \
		npm ci --no-audit --no-fund --loglevel=error && touch node_modules; fi

# Debian's Chromium for the browser tests (Playwright's own download cannot work here).
browser:
	@command -v chromium >/dev/null 2>&1 || [ -x "$${CHROMIUM_PATH:-/usr/bin/chromium}" ] || { \
		echo "installing Debian's chromium for the browser tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

infra-up: ensure-uv
	bash deploy/infra.sh up

infra-down:
	bash deploy/infra.sh down

infra-status:
	-@bash deploy/infra.sh status

services-up:
	bash deploy/services.sh up

services-down:
	bash deploy/services.sh down

up:
	@start=$$(date +%s); \
	$(MAKE) --no-print-directory sync infra-up services-up; \
	echo; \
	echo "indgang is up (took $$(( $$(date +%s) - start ))s):"; \
	echo "  intake         http://127.0.0.1:8001   public form; /docs OpenAPI; /health/ready, /metrics"; \
	echo "  routing        http://127.0.0.1:8002   consultants' console (log in: ane-kjaer / indgang-dev)"; \
	echo "  notifications  http://127.0.0.1:8003   delivery log (teamleder / indgang-dev)"; \
	echo "  guide          http://127.0.0.1:8004   guide; /hjaelp public page; editor (redaktoer / indgang-dev)"; \
	echo "  reporting      http://127.0.0.1:8005   reports (teamleder or ledelse / indgang-dev); make demo-history"; \
	echo "  webhooks       http://127.0.0.1:8090   development receiver for the job centre's webhook"; \
	echo "  Kafka          $${KAFKA_BOOTSTRAP_SERVERS:-$$(cat var/run/kafka.bootstrap 2>/dev/null || echo 127.0.0.1:9092)}   (bash deploy/consume.sh indgang.case-routed.v1)"; \
	echo "  store          $${MONGODB_URI:-mongodb://127.0.0.1:27017}"; \
	echo "  mail UI        http://127.0.0.1:8025   (every mail sent lands here)"; \
	echo "  logs           var/log/"; \
	echo; \
	echo "Try:  curl -s http://127.0.0.1:8001/health/ready"; \
	echo "Stop: make down"

down:
	bash deploy/services.sh down
	bash deploy/infra.sh down

status:
	-@bash deploy/infra.sh status
	@echo
	-@bash deploy/services.sh status

test: sync browser infra-up
	$(UV) run --frozen pytest

# Tests that use the infrastructure are marked `infra` by the fixtures they use
# (tests/pytest_indgang.py); the rest run without Kafka, the store or Chromium.
unit: sync
	@start=$$(date +%s); \
	$(UV) run --frozen pytest -m "not infra"; \
	echo "make unit took $$(( $$(date +%s) - start ))s"

lint: sync
	$(UV) run --frozen ruff check .
	$(UV) run --frozen ruff format --check .
	$(UV) run --frozen mypy contracts/src runtime/src services/*/src
	$(UV) run --frozen mypy prove
	$(UV) run --frozen mypy bench

# Known-vulnerable dependencies: every package pinned in uv.lock (all groups, with
# hashes) checked by pip-audit against PyPI's advisories; a known vulnerability fails,
# and so does a package that could not be checked (--strict). When the advisory
# service is unreachable (pip-audit: "could not be audited" or a connection error), do
# not skip the check and do not ship on it: run `make audit` again where pypi.org's
# JSON API answers, or against OSV: `make audit AUDIT_SERVICE=osv` (api.osv.dev).
# A vulnerability without a fix yet: AUDIT_ARGS="--ignore-vuln <ID>", with a line here
# saying why and until when.
AUDIT_SERVICE ?= pypi
AUDIT_ARGS ?=
audit-deps: sync
	@mkdir -p var
	$(UV) export --frozen --all-groups --no-emit-workspace --format requirements-txt \
		--output-file var/audit-requirements.txt >/dev/null
	$(UV) run --frozen pip-audit --strict --disable-pip --require-hashes \
		--vulnerability-service $(AUDIT_SERVICE) --progress-spinner off $(AUDIT_ARGS) \
		-r var/audit-requirements.txt

# Secrets in the repository: detect-secrets over the tracked files; anything not in
# .secrets.baseline marked as a reviewed development value fails (tools/secret_scan.py
# says what to do).
audit-secrets: sync
	$(UV) run --frozen python tools/secret_scan.py

audit: audit-secrets audit-deps

# The step-up benchmark on fresh stacks of its own (empty, then preloaded), beside a plain
# Kafka loop; needs the broker and the store (`make up`). Flags: BENCH_ARGS="--rates 10,25".
BENCH_ARGS ?=
bench: sync
	$(UV) run --frozen python bench/bench.py --preload 100000 --profile \
		--plot docs/bench-latency.png --json var/bench/latest.json $(BENCH_ARGS)

# Proof under faults: its own stack (infrastructure in var/prove-<n>b on ports + 100, so
# `make up` is untouched), N inquiries at RATE/s while services, broker and store are
# SIGKILLed; then the checks from outside. N=, RATE=, KAFKA_BROKERS=3, PROVE_ARGS="--short".
PROVE_ARGS ?=
prove: sync
	$(UV) run --frozen python prove/prove.py $(PROVE_ARGS)

contracts: sync
	$(UV) run --frozen indgang-contracts-generate
	$(UV) run --frozen python tools/asyncapi.py

# Event contracts against the last release (contracts/released/<date>/): a removed or
# retyped field, a new required field, a narrowed enum or a removed event fails unless it
# is a new major version (docs/contracts-versioning.md). Also part of `make test`.
.PHONY: contracts-check
contracts-check: sync
	$(UV) run --frozen python tools/schema_compat.py --verbose

# The Helm chart (deploy/helm/indgang): helm lint and helm template, and a schema check of
# every rendered manifest against k8s.io/api's types (deploy/helm/chart-check.sh). helm is
# built once from its Go module and cached in ~/.cache/indgang/helm; make test runs the
# same checks (tests/test_helm_chart.py).
.PHONY: chart-check
chart-check:
	bash deploy/helm/chart-check.sh

# Reporting (issue 14). rebuild-reports: stop reporting, drop its read model and set its
# consumer groups back to the topics' start, start it again: it reads every retained
# event again. demo-history: a few dozen inquiries, referrals, answers and closings
# through the public and staff APIs of a running `make up`.
.PHONY: rebuild-reports demo-history
rebuild-reports: sync
	bash deploy/services.sh down reporting
	ENVIRONMENT=$${ENVIRONMENT:-development} \
	KAFKA_BOOTSTRAP_SERVERS=$${KAFKA_BOOTSTRAP_SERVERS:-$$(cat var/run/kafka.bootstrap 2>/dev/null || echo 127.0.0.1:9092)} \
		$(UV) run --frozen --no-sync indgang-reporting-rebuild
	bash deploy/services.sh up reporting

demo-history: sync
	$(UV) run --frozen --no-sync python services/reporting/scripts/demo_history.py $(DEMO_ARGS)

# Dead letters back to their original topics after a fix (docs/operations.md): lists what
# matches, and re-drives it with --apply. REDRIVE_ARGS="--type case-routed --since 2026-12-01T06:00".
REDRIVE_ARGS ?=
.PHONY: redrive
redrive: sync
	$(UV) run --frozen python tools/redrive.py $(REDRIVE_ARGS)

# One inquiry's trace across the services, from the spans in var/traces/ (make up writes
# them; docs/observability.md): make trace REF=H-2026-000123
REF ?=
.PHONY: trace
trace:
	$(UV) run --frozen --no-sync python tools/trace.py $(REF)
