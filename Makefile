# Two commands do all the set-up: `make run` and `make test` (see README.md).
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
BUF := node_modules/.bin/buf
INSTALLED := $(VENV)/.installed
PROMETHEUS := /usr/bin/prometheus
SYSTEMD_ANALYZE := /usr/bin/systemd-analyze
CHROMIUM := /usr/bin/chromium
PG_URL ?= postgresql://postgres@127.0.0.1:5432/postgres
# The dashboard (web/): its own npm package, built by Vite into web/dist, which the server serves under /app/.
WEB_INSTALLED := web/node_modules/.package-lock.json
WEB_DIST := web/dist/index.html
WEB_SOURCES := $(shell find web/src web/public -type f -not -name schema.d.ts 2>/dev/null) web/index.html web/vite.config.ts web/tsconfig.json

.PHONY: run test bench deps gen check-gen lint postgres clean web-test

# npm's packages too ($(BUF) installs them): Envoy serves the API reference's Swagger UI and ReDoc from node_modules.
run: $(INSTALLED) $(BUF) $(WEB_DIST)
	$(PY) -m devtools.supervisor

test: deps lint check-gen web-test $(WEB_DIST) postgres $(PROMETHEUS) $(SYSTEMD_ANALYZE) $(CHROMIUM)
	TEST_POSTGRES_URL=$(PG_URL) $(PY) -m pytest -q -p no:cacheprovider

# The performance harness (bench/harness.py, run as a module so it imports tests.support): real
# server, Envoy and PostgreSQL; writes bench/results/bench.json and bench.md.
# One scenario: make bench SCENARIO=reads|fanin|dispatch
SCENARIO ?= all
bench: deps postgres
	PATH=$(CURDIR)/$(VENV)/bin:$$PATH TEST_POSTGRES_URL=$(PG_URL) $(PY) -m bench.harness --scenario $(SCENARIO)

deps: $(INSTALLED) $(BUF)

# Both distributions, editable: the client (clients/pyproject.toml) and the server that needs it.
# A .venv made before they were split holds the single old distribution `computepool`: remove it.
$(INSTALLED): pyproject.toml clients/pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	if $(PY) -m pip show -q computepool 2>/dev/null; then $(PY) -m pip uninstall -q -y computepool; fi
	$(PY) -m pip install -q -e ./clients -e '.[dev]'
	touch $@

# Debian's Prometheus (and promtool): the metrics test runs a real one.
$(PROMETHEUS):
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends prometheus openssl || \
	  (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends prometheus openssl)

# Debian's systemd, for systemd-analyze: tests/test_deploy.py verifies deploy/systemd's units.
$(SYSTEMD_ANALYZE):
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends systemd || \
	  (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends systemd)

# Debian's Chromium: tests/e2e/test_api_docs_browser.py opens the API reference in it (npm playwright-core).
$(CHROMIUM):
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium || \
	  (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium)

$(BUF): package.json
	npm install --no-audit --no-fund --silent
	touch $@

# The dashboard's packages, exactly as web/package-lock.json pins them (again only when it changes).
$(WEB_INSTALLED): web/package.json web/package-lock.json
	npm --prefix web ci --no-audit --no-fund --silent
	touch $@

# Its typed REST client is generated from envoy/openapi.json (openapi-typescript), then type-checked
# (tsc) and bundled (vite build).
$(WEB_DIST): $(WEB_INSTALLED) envoy/openapi.json $(WEB_SOURCES)
	npm --prefix web run build --silent

# The dashboard's unit tests (Vitest) and type check; its browser tests are in tests/e2e (pytest).
web-test: $(WEB_INSTALLED)
	npm --prefix web test --silent

# Regenerates clients/src/computepool/v1, envoy/computepool.pb and envoy/openapi.json from proto/.
gen: $(INSTALLED)
	$(PY) scripts/gen_protos.py

# Fails if the committed generated code differs from what the protos generate.
check-gen: $(INSTALLED)
	@scratch=$$(mktemp -d) && $(PY) scripts/gen_protos.py $$scratch && \
	  diff -r -x __pycache__ $$scratch/clients/src/computepool/v1 clients/src/computepool/v1 && cmp $$scratch/envoy/computepool.pb envoy/computepool.pb && \
	  diff -u envoy/openapi.json $$scratch/envoy/openapi.json && \
	  diff -u clients/src/computepool/_sync/client.py $$scratch/clients/src/computepool/_sync/client.py && \
	  rm -rf $$scratch && echo "generated code matches the protos"

lint: $(BUF) $(INSTALLED)
	cd clients && ../$(PY) -m mypy
	$(BUF) lint
	$(BUF) format --diff --exit-code --path proto/computepool
	@if git cat-file -e main:proto/computepool 2>/dev/null; then \
	  $(BUF) breaking --against '.git#branch=main' && echo "no breaking change against main"; \
	else echo "buf breaking: main has no protos yet, nothing to compare"; fi

# PostgreSQL tests never skip: start the local cluster if it is down, and fail if it won't come up.
postgres:
	@pg_isready -q -h 127.0.0.1 -p 5432 || pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start
	@for i in $$(seq 30); do pg_isready -q -h 127.0.0.1 -p 5432 && exit 0; sleep 1; done; \
	  echo "PostgreSQL did not start on 127.0.0.1:5432" >&2; exit 1

clean:
	rm -rf $(VENV) node_modules var web/node_modules web/dist
