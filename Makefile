# Open Library pipeline. `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
RELEASE ?= latest
WORKERS ?= 3
LUIGID_HOST := 127.0.0.1
LUIGID_PORT ?= 8082
LUIGID_DIR := data/luigid
DEMO_DIR := data/demo
# Command-line tools the tests call (linters, scanners), in a virtualenv of their own so their
# dependencies never touch the project's pins.
TOOLS := .venv-tools
# Commands the tests need, as command:Debian-package (installed by `make test` when missing and run as
# root on Debian/Ubuntu).
TEST_COMMANDS := java:openjdk-17-jre-headless shellcheck:shellcheck chromium:chromium

.PHONY: help setup tools test-deps java run demo test lint luigid luigid-stop clean

help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(VENV)/.installed: pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Python 3.11 is needed ($(PYTHON) not found); set PYTHON=/path/to/python3.11"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -qq --upgrade pip
	$(VENV)/bin/pip install -qq -e '.[test]'
	@touch $@

setup: $(VENV)/.installed ## Create .venv and install the project with its pinned dependencies

$(TOOLS)/.installed: tests/tools-requirements.txt
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Python 3.11 is needed ($(PYTHON) not found); set PYTHON=/path/to/python3.11"; exit 1; }
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install -qq --upgrade pip
	$(TOOLS)/bin/pip install -qq -r tests/tools-requirements.txt
	@touch $@

tools: $(TOOLS)/.installed ## Install the command-line tools the tests use into .venv-tools

test-deps: ## Install the Debian packages the tests need (Java, shellcheck, chromium) when missing
	@missing=$$(echo $$(for pair in $(TEST_COMMANDS); do command -v $${pair%%:*} >/dev/null 2>&1 || echo $${pair#*:}; done)); \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing $$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	  else echo "the tests need these Debian packages: $$missing (sudo apt-get install $$missing)"; exit 1; fi; \
	fi

java: ## Check that Java (needed by local Spark) is there
	@if [ -z "$$JAVA_HOME" ] && ! command -v java >/dev/null 2>&1; then \
	  echo "Java was not found: local Spark needs Java 17."; \
	  echo "Install it (Debian/Ubuntu: sudo apt-get install openjdk-17-jre-headless) or set JAVA_HOME."; \
	  exit 1; \
	fi

# Use the central scheduler (make luigid) when it answers, the local scheduler otherwise.
SCHEDULER = $$(if $(PY) -c "import urllib.request; urllib.request.urlopen('http://$(LUIGID_HOST):$(LUIGID_PORT)/api/task_list', timeout=2)" 2>/dev/null; \
  then echo "--scheduler-host $(LUIGID_HOST) --scheduler-port $(LUIGID_PORT)"; \
  else echo "luigid is not running on $(LUIGID_HOST):$(LUIGID_PORT): using the local scheduler (start it with make luigid)" >&2; echo "--local-scheduler"; fi)

run: setup java ## Run the pipeline for RELEASE (default latest) into the lake (default ./data)
	$(PY) -m luigi --module tasks OpenLibraryPipeline --release $(RELEASE) --workers $(WORKERS) $(SCHEDULER)

demo: setup java ## Run the same pipeline offline on the bundled sample release (lake: data/demo/lake)
	$(PY) -m source.sample $(DEMO_DIR)/source >/dev/null
	OPENLIBRARY_METADATA_URL= $(PY) -m luigi --module tasks OpenLibraryPipeline --release latest \
	  --workers $(WORKERS) --openlibrary-base-url file://$(CURDIR)/$(DEMO_DIR)/source \
	  --lake-root $(DEMO_DIR)/lake $(SCHEDULER)
	@echo "report: $(DEMO_DIR)/lake/reports/$$(ls $(DEMO_DIR)/lake/reports | tail -1)/report.json"

test: setup tools test-deps ## Install what the tests need and run the whole suite (lint included)
	$(MAKE) --no-print-directory lint
	PATH="$(CURDIR)/$(TOOLS)/bin:$$PATH" $(PY) -m pytest

lint: setup ## ruff check and format check
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

luigid: setup ## Start Luigi's central scheduler and visualiser on 127.0.0.1:8082 (state in data/luigid)
	@mkdir -p $(LUIGID_DIR)/log
	@if $(PY) -c "import urllib.request; urllib.request.urlopen('http://$(LUIGID_HOST):$(LUIGID_PORT)/api/task_list', timeout=2)" 2>/dev/null; then \
	  echo "luigid already answers on http://$(LUIGID_HOST):$(LUIGID_PORT)"; \
	else \
	  $(VENV)/bin/luigid --background --address $(LUIGID_HOST) --port $(LUIGID_PORT) \
	    --pidfile $(CURDIR)/$(LUIGID_DIR)/luigid.pid --logdir $(CURDIR)/$(LUIGID_DIR)/log \
	    --state-path $(CURDIR)/$(LUIGID_DIR)/state.pickle && \
	  echo "luigid started: visualiser at http://$(LUIGID_HOST):$(LUIGID_PORT) (stop it with make luigid-stop)"; \
	fi

luigid-stop: ## Stop the scheduler started by make luigid (it saves its state on the way out)
	@if [ -f $(LUIGID_DIR)/luigid.pid ]; then kill $$(cat $(LUIGID_DIR)/luigid.pid) && rm -f $(LUIGID_DIR)/luigid.pid && echo "luigid stopped"; else echo "no $(LUIGID_DIR)/luigid.pid"; fi

clean: ## Remove the virtualenv and caches (the lake in ./data is kept)
	rm -rf $(VENV) $(TOOLS) .pytest_cache .ruff_cache *.egg-info
