# Two entry points for people, as the README says: `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(CURDIR)/$(VENV)/bin
COLLECTIONS := $(CURDIR)/.tmp/collections
# community.docker comes from the PyPI `ansible` wheel (kms/fetch-collections), not Galaxy;
# every ansible-* command (lint, molecule, tests) finds it next to this collection.
DOCKER_COLLECTIONS := $(or $(PKIMANAGER_KMS_CACHE),$(HOME)/.cache/pkimanager-kms)/collections
export ANSIBLE_COLLECTIONS_PATH := $(COLLECTIONS):$(DOCKER_COLLECTIONS)
export PYTHONPATH := $(COLLECTIONS)
export PATH := $(BIN):$(PATH)
PYTEST_ARGS ?=

.PHONY: help venv collection server postgres unit integration sanity lint docs changelog build compat test demo clean

help:
	@echo "make demo   - build/start a local Cosmian KMS and run playbooks/provision.yml"
	@echo "make test   - run every test and check (unit, integration against a real KMS, sanity, lint)"
	@echo "make bench  - benchmark suite on a private KMS; Markdown report in out/bench-report.md (not part of test)"
	@echo "make bench-backends - key pairs on SQLite, PostgreSQL, two nodes; report in out/bench-backends.md"

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

# Debian's PostgreSQL, for the tests of several KMS nodes on one database (tests/helpers/postgres.py
# makes a throw-away cluster of it); installed only when missing.
POSTGRES_INITDB ?= /usr/lib/postgresql/*/bin/initdb
postgres:
	@if ! ls $(POSTGRES_INITDB) >/dev/null 2>&1; then \
	  sudo=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$sudo apt-get update && $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql; fi

unit: venv collection
	$(BIN)/python -m pytest tests/unit $(PYTEST_ARGS)

integration: venv collection server postgres
	$(BIN)/python -m pytest tests/integration $(PYTEST_ARGS)

# ansible-test sanity on a copy of the tree (see hacking/ansible-test-sanity).
sanity: venv
	hacking/ansible-test-sanity

# ansible-lint installs the collection from disk into $HOME/.ansible/collections and keeps a
# copy of the same version from an earlier run, so new modules would be "unknown": it gets a
# HOME of its own, emptied on every run.
lint: venv collection
	rm -rf .tmp/lint-home && mkdir -p .tmp/lint-home
	HOME=$(CURDIR)/.tmp/lint-home $(BIN)/ansible-lint

# Every plugin's documentation renders (modules and lookups).
docs: venv collection
	@for kind in module:modules lookup:lookup; do \
	  for plugin in $$(cd plugins/$${kind#*:} && ls *.py | sed 's/\.py$$//'); do \
	    $(BIN)/ansible-doc -t $${kind%%:*} pkimanager.kms.$$plugin >/dev/null || exit 1; \
	    echo "ansible-doc -t $${kind%%:*} pkimanager.kms.$$plugin: ok"; done; done

# Changelog fragments are valid (antsibull-changelog), so a release can be cut from them.
changelog: venv
	$(BIN)/antsibull-changelog lint

# The collection builds, and the built artifact installs.
build: venv
	@rm -rf .tmp/build && mkdir -p .tmp/build
	$(BIN)/ansible-galaxy collection build --output-path .tmp/build .
	$(BIN)/ansible-galaxy collection install --offline --no-deps --force -p .tmp/build/installed .tmp/build/pkimanager-kms-*.tar.gz
	ANSIBLE_COLLECTIONS_PATH=$(CURDIR)/.tmp/build/installed $(BIN)/ansible-doc pkimanager.kms.kms_keypair >/dev/null

# Unit tests and sanity on the older supported ansible-core releases (2.19 is the venv's).
compat: venv collection
	hacking/compat-test

test: venv collection server postgres
	$(BIN)/python -m pytest tests/unit tests/integration $(PYTEST_ARGS)
	$(MAKE) sanity lint docs changelog build compat molecule

demo: venv collection server
	hacking/demo

clean:
	rm -rf .tmp tests/output

# --- containers: role, compose, molecule ---
.PHONY: docker collections-deps molecule

# A running Docker engine (installed if missing) and the local image of the pinned server.
docker: server
	kms/start-docker
	kms/build-image >/dev/null

collections-deps: venv
	kms/fetch-collections >/dev/null

lint demo: collections-deps

# The role's Molecule scenario against this machine's engine (host networking, 127.0.0.1).
molecule: venv collection collections-deps docker
	cd roles/kms_server && $(BIN)/molecule test

# The property-based tests of the TTLV codec and the response parsers at 10,000 examples per
# property (make unit runs 200); see tests/unit/plugins/module_utils/test_codec_properties.py.
.PHONY: fuzz
fuzz: venv collection
	HYPOTHESIS_PROFILE=fuzz $(BIN)/python -m pytest tests/unit/plugins/module_utils/test_codec_properties.py \
	  --hypothesis-show-statistics $(PYTEST_ARGS)

# The side-by-side benchmark suite (benchmarks/README.md) on a KMS it starts itself; not part of
# `make test`. bench-smoke (a few items, one round) only proves the suite still runs, for CI.
.PHONY: bench bench-smoke
BENCH_ARGS ?=
bench: venv collection server
	$(BIN)/python benchmarks/suite.py --report out/bench-report.md $(BENCH_ARGS)

bench-smoke: venv collection server postgres
	$(BIN)/python benchmarks/suite.py --smoke --report .tmp/bench-smoke-report.md
	$(BIN)/python benchmarks/backends.py --pairs 4 --reads 8 --clients 2 --rounds 1 --report .tmp/bench-backends-smoke.md

# Key pairs through one node on SQLite, one on PostgreSQL and two on one PostgreSQL (issue 19).
.PHONY: bench-backends
bench-backends: venv collection server postgres
	$(BIN)/python benchmarks/backends.py --report out/bench-backends.md $(BENCH_ARGS)
