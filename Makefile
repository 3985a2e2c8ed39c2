# Two entry points for people, as the README says: `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(CURDIR)/$(VENV)/bin
COLLECTIONS := $(CURDIR)/.tmp/collections
export ANSIBLE_COLLECTIONS_PATH := $(COLLECTIONS)
export PYTHONPATH := $(COLLECTIONS)
export PATH := $(BIN):$(PATH)
PYTEST_ARGS ?=

.PHONY: help venv collection server unit integration test demo clean

help:
	@echo "make demo   - build/start a local Cosmian KMS and run playbooks/provision.yml"
	@echo "make test   - run every test and check (unit, integration against a real KMS, sanity, lint)"

venv: $(VENV)/.installed
$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

# Tests and ansible-* commands find the collection through this link, so the working
# tree is what runs, without a build step.
collection:
	@mkdir -p $(COLLECTIONS)/ansible_collections/pkimanager
	@ln -sfn $(CURDIR) $(COLLECTIONS)/ansible_collections/pkimanager/kms

# The real Cosmian KMS and ckms, built once from crates.io into ~/.cache.
server:
	kms/build-server >/dev/null

unit: venv collection
	$(BIN)/python -m pytest tests/unit $(PYTEST_ARGS)

integration: venv collection server
	$(BIN)/python -m pytest tests/integration $(PYTEST_ARGS)

test: venv collection server
	$(BIN)/python -m pytest tests/unit tests/integration $(PYTEST_ARGS)

clean:
	rm -rf .tmp tests/output
