# Local Bubble: two commands for a new machine, `make demo` and `make test`.
# Each installs what it needs (virtualenv, npm packages, Chromium for tests) and
# starts and stops the local services itself.

PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
SERVE ?= 1
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
export AWS_XRAY_SDK_ENABLED := false
export LB_STAGE ?= local
export SOURCES_DIR ?= $(abspath $(CURDIR)/../shared/data)

.PHONY: install demo test bench lint services-up services-down status watch clean-local help

help:
	@echo "make demo [SERVE=0]  build the world from real catalogues and serve it"
	@echo "make test            run every test (starts and stops its own services)"
	@echo "make bench           print the benchmark figures"
	@echo "make lint            ruff check and format check"
	@echo "make services-up / services-down / status   the local database and store"
	@echo "make watch           start a build for each new file under incoming/ (jobctl)"

$(VENV)/.installed: requirements.txt batch_jobs/requirements.txt requirements-dev.txt
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found: install Python 3.11"; exit 2; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	@command -v npm >/dev/null || { echo "error: npm not found: install Node.js 20 (apt-get install nodejs npm)"; exit 2; }
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

/usr/bin/chromium:
	@command -v apt-get >/dev/null || { echo "error: Chromium is needed for the browser tests: install Debian's chromium package"; exit 2; }
	apt-get install -y -q chromium >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null; }

install: $(VENV)/.installed node_modules/.installed

services-up: install
	$(PY) -m devenv start
	$(PY) -m devenv setup

services-down:
	$(PY) -m devenv stop

status:
	$(PY) -m devenv status

demo: services-up
	$(PY) -m batch_jobs build
	$(PY) -m batch_jobs site --out build/site
ifeq ($(SERVE),1)
	$(PY) -m devenv serve --site build/site
endif

test: install /usr/bin/chromium
	$(PY) -m pytest

watch: services-up
	$(PY) -m jobctl -v watch-sources

# The peers the benchmarks compare with (radvel, exoplanet-core): kept out of
# requirements-dev.txt because radvel pulls in a large tree; own stamp file.
$(VENV)/.bench-installed: benchmarks/requirements.txt $(VENV)/.installed
	$(PY) -m pip install --quiet --disable-pip-version-check -r benchmarks/requirements.txt
	touch $@

bench: install $(VENV)/.bench-installed
	$(PY) -m pytest benchmarks -q -s -p no:randomly

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

clean-local: services-down
	rm -rf .local build test-artifacts
