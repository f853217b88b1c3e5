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
# The demo's source and lake, for the run and for the line that prints its report page
DEMO_ENV = OPENLIBRARY_METADATA_URL= OPENLIBRARY_BASE_URL=file://$(CURDIR)/$(DEMO_DIR)/source LAKE_ROOT=$(DEMO_DIR)/lake
# Command-line tools the tests call (linters, scanners), in a virtualenv of their own so their
# dependencies never touch the project's pins.
TOOLS := .venv-tools
# pytest with the tools venv's commands (hadolint, checkov) on PATH
PYTEST = PATH="$$PATH:$(CURDIR)/$(TOOLS)/bin" $(PY) -m pytest
# Commands the tests need, as command:Debian-package (installed by `make test` when missing and run as
# root on Debian/Ubuntu). dockerd and debootstrap: the image test (a Docker engine it starts itself, and a
# base image made from Debian's packages where Docker Hub can't be reached).
TEST_COMMANDS := java:openjdk-17-jre-headless shellcheck:shellcheck chromium:chromium dockerd:docker.io \
  debootstrap:debootstrap
# The Terraform the tests check the stacks with (terraform fmt / console): no package registry has its
# command for this platform, so it is a prerequisite.
TERRAFORM_MIN := 1.9

.PHONY: help setup tools test-deps check-terraform java run demo test image-test reliability lint luigid luigid-stop \
  clean query bench

help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

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

test-deps: ## Install the Debian packages the tests need (Java, shellcheck, chromium, docker.io, debootstrap) when missing
	@missing=$$(echo $$(for pair in $(TEST_COMMANDS); do command -v $${pair%%:*} >/dev/null 2>&1 || echo $${pair#*:}; done)); \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing $$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	  else echo "the tests need these Debian packages: $$missing (sudo apt-get install $$missing)"; exit 1; fi; \
	fi

check-terraform:
	@version=$$(terraform version 2>/dev/null | sed -n '1s/^Terraform v\([0-9]*\.[0-9]*\).*/\1/p'); \
	if [ -z "$$version" ] || [ "$$(printf '%s\n' $(TERRAFORM_MIN) "$$version" | sort -V | head -1)" != $(TERRAFORM_MIN) ]; then \
	  echo "the tests need terraform >= $(TERRAFORM_MIN) on PATH ($${version:+found $$version, }https://developer.hashicorp.com/terraform/install): install it, then run make test again"; exit 1; fi

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
	@$(PY) -m tasks.report_url --release $(RELEASE)

demo: setup java ## Run the same pipeline offline on the bundled sample release (lake: data/demo/lake)
	$(PY) -m source.sample $(DEMO_DIR)/source >/dev/null
	$(DEMO_ENV) $(PY) -m luigi --module tasks OpenLibraryPipeline --release latest --workers $(WORKERS) $(SCHEDULER)
	@$(DEMO_ENV) $(PY) -m tasks.report_url --release latest

test: setup tools test-deps check-terraform ## Install what the tests need and run the whole suite (lint included)
	$(MAKE) --no-print-directory lint
	$(PYTEST)

image-test: setup test-deps ## Build docker/Dockerfile and run the container on a real Docker engine (as root)
	$(PYTEST) tests/test_image_container.py

reliability: setup tools test-deps ## Run the fault tests and regenerate RELIABILITY.md from what they observed
	$(PYTEST) -m reliability --reliability-report=RELIABILITY.md

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

query: setup ## Open the latest complete release (or RELEASE=YYYY-MM-DD) in DuckDB: views over the lake
	$(PY) -m query --release $(RELEASE)

# ==== Operate it on Google Cloud: image, Terraform stacks, up / down (README: "Run it on Google Cloud") ====
# terraform/storage: the lake bucket, the image repository (and BigQuery tables when BIGQUERY=true);
# terraform/compute: the VM running the container (luigid + cron), its service account, Dataproc.
PROJECT_ID ?=
REGION ?= europe-west1
ZONE ?= $(REGION)-b
BUCKET_NAME ?= $(PROJECT_ID)-openlibrary-lake
IMAGE_NAME ?= $(REGION)-docker.pkg.dev/$(PROJECT_ID)/openlibrary/pipeline
ifeq ($(origin IMAGE_TAG), undefined)
IMAGE_TAG := $(shell git rev-parse --short HEAD 2>/dev/null)
endif
# Open Library dates a release the last day of a month and uploads it over the next days: run at 06:00 UTC
# on each of the days 2-8; a release not yet complete is refused and retried the next day, and once the
# month's release is done the remaining runs find every task complete and end in seconds.
CRON ?= 0 6 2-8 * *
CLUSTER_NAME ?= openlibrary
SPARK_RUNNER ?= dataproc
BIGQUERY ?= false
# Mailed when a run fails (terraform/compute alerting.tf); empty: no mail, incidents in the console only
ALERT_EMAIL ?=
BQ_RELEASE ?=

TF_STORAGE := terraform -chdir=terraform/storage
TF_COMPUTE := terraform -chdir=terraform/compute
STORAGE_VARS = -var project_id=$(PROJECT_ID) -var region=$(REGION) -var bucket_name=$(BUCKET_NAME) \
  -var create_bigquery=$(BIGQUERY) -var bigquery_release=$(BQ_RELEASE)
COMPUTE_IMAGE = $(IMAGE_NAME):$(IMAGE_TAG)
# lake_bucket and lake_root are shell variables of the recipe, read from the storage stack's outputs.
COMPUTE_VARS = -var project_id=$(PROJECT_ID) -var region=$(REGION) -var zone=$(ZONE) \
  -var lake_bucket="$$lake_bucket" -var lake_root="$$lake_root" -var image=$(COMPUTE_IMAGE) \
  -var cron_schedule="$(CRON)" -var cluster_name=$(CLUSTER_NAME) -var spark_runner=$(SPARK_RUNNER) \
  -var alert_email="$(ALERT_EMAIL)"
# Sets lake_bucket and lake_root from the storage stack, or leaves them empty when it has none (terraform
# prints a warning on stdout and exits 0 when there is no state, so the values are checked).
READ_STORAGE_OUTPUTS = lake_bucket=$$($(TF_STORAGE) output -raw lake_bucket 2>/dev/null) || lake_bucket=; \
  lake_root=$$($(TF_STORAGE) output -raw lake_root 2>/dev/null) || lake_root=; \
  [[ "$$lake_bucket" =~ ^[a-z0-9][a-z0-9._-]+$$ && "$$lake_root" =~ ^gs://[^[:space:]]+$$ ]] || lake_bucket= lake_root=

.PHONY: check-project check-image apply-storage destroy-storage apply-compute destroy-compute build-image \
  push-image up down

check-project:
	@if [ -z "$(PROJECT_ID)" ]; then \
	  echo "PROJECT_ID is not set: run make $(or $(MAKECMDGOALS),$@) PROJECT_ID=<your Google Cloud project id>" >&2; \
	  exit 1; fi

check-image:
	@case "$(IMAGE_NAME)" in */|*//*|"") echo "IMAGE_NAME ($(IMAGE_NAME)) is incomplete: set PROJECT_ID (or IMAGE_NAME)" >&2; exit 1;; esac
	@if [ -z "$(IMAGE_TAG)" ]; then echo "IMAGE_TAG is empty (no git commit to tag with): set IMAGE_TAG" >&2; exit 1; fi

apply-storage: check-project ## Create/update the lake bucket and image repository (terraform/storage)
	$(TF_STORAGE) init -input=false
	$(TF_STORAGE) apply -input=false -auto-approve $(STORAGE_VARS)

destroy-storage: check-project ## Delete the storage stack: the lake bucket WITH ALL ITS DATA, the images
	$(TF_STORAGE) init -input=false
	$(TF_STORAGE) destroy -input=false -auto-approve $(STORAGE_VARS)

apply-compute: check-project check-image ## Create/update the VM (luigid + cron), Dataproc (terraform/compute)
	@$(READ_STORAGE_OUTPUTS); \
	if [ -z "$$lake_bucket" ]; then echo "the storage stack has no outputs: run make apply-storage first" >&2; exit 1; fi; \
	set -x; \
	$(TF_COMPUTE) init -input=false && \
	$(TF_COMPUTE) apply -input=false -auto-approve $(COMPUTE_VARS)

# Destroying needs no image, but the variable must still pass its check (outside a git checkout the tag is empty).
destroy-compute: COMPUTE_IMAGE = $(IMAGE_NAME):$(or $(IMAGE_TAG),none)
destroy-compute: check-project ## Delete the VM, its service account and Dataproc (the lake is kept)
	@$(READ_STORAGE_OUTPUTS); \
	if [ -z "$$lake_bucket" ]; then \
	  lake_bucket=$(BUCKET_NAME) lake_root=gs://$(BUCKET_NAME)/lake; \
	  echo "no storage stack outputs: destroying compute with lake_bucket=$$lake_bucket"; fi; \
	set -x; \
	$(TF_COMPUTE) init -input=false && \
	$(TF_COMPUTE) destroy -input=false -auto-approve $(COMPUTE_VARS)

build-image: check-image ## Build the container image IMAGE_NAME:IMAGE_TAG (docker/Dockerfile, linux/amd64)
	docker build --platform linux/amd64 -f docker/Dockerfile -t $(IMAGE_NAME):$(IMAGE_TAG) .

push-image: check-project check-image ## Push IMAGE_NAME:IMAGE_TAG to Artifact Registry (after build-image)
	@repository=$$($(TF_STORAGE) output -raw image_repository 2>/dev/null) || repository=; \
	case "$(IMAGE_NAME)" in "$$repository"/*) ;; *) \
	  echo "note: $(IMAGE_NAME) is not in the storage stack's repository ($${repository:-none yet})" >&2;; esac
	gcloud auth configure-docker $(firstword $(subst /, ,$(IMAGE_NAME))) --quiet
	docker push $(IMAGE_NAME):$(IMAGE_TAG)

up: check-project check-image ## Everything on Google Cloud: storage, then the image, then compute
	$(MAKE) --no-print-directory apply-storage
	$(MAKE) --no-print-directory build-image IMAGE_TAG=$(IMAGE_TAG)
	$(MAKE) --no-print-directory push-image IMAGE_TAG=$(IMAGE_TAG)
	$(MAKE) --no-print-directory apply-compute IMAGE_TAG=$(IMAGE_TAG)

down: check-project ## Delete everything up created, the lake's data included: compute, then storage
	$(MAKE) --no-print-directory destroy-compute IMAGE_TAG=$(IMAGE_TAG)
	$(MAKE) --no-print-directory destroy-storage
# ==== end of the Google Cloud section ====

# ==== benchmarks (issues 6 and 15) ====
BENCH_SCALE ?= full

bench: setup java ## Run the benchmarks and regenerate BENCHMARKS.md (BENCH_SCALE=small: a quick check)
	@for tool in curl gzip taskset git tar; do command -v $$tool >/dev/null || { echo "make bench needs $$tool"; exit 1; }; done
	$(PY) -m bench.run --scale $(BENCH_SCALE)
