# pyops.uwsgi. A newcomer needs two commands:
#   make demo   the whole stack on a local container standing in for an EC2 host
#   make test   every check CI runs: lint, sanity, unit tests and the Molecule scenarios
# Both run as root on a Debian machine and install what they need (Python tools in .venv, the Docker
# engine, debootstrap, local base images).
SHELL := /bin/bash
.DEFAULT_GOAL := help
PYTHON ?= python3
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
export PATH := $(BIN):$(PATH)
# Molecule scenarios `make test` runs, in order.
SCENARIOS ?= default ec2_like fleet multi_python pitfalls

.PHONY: help venv host images lint sanity units molecule test demo demo-clean bench scale

help:
	@echo "make demo        deploy the sample app on a local stand-in host and show its page"
	@echo "make demo-clean  remove the demo host"
	@echo "make test        lint, sanity, unit tests, Molecule scenarios ($(SCENARIOS))"
	@echo "make bench       measure the served stack against its alternatives (docs/benchmark.md)"
	@echo "make scale       time site.yml converging 1, 4 and 8 hosts at once (docs/scale.md)"

venv: $(VENV)/.installed
$(VENV)/.installed: requirements.txt constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements.txt -c constraints.txt
	touch $@

host:
	scripts/host-setup.sh

# Local base images, and the EC2-like image of the ec2_like scenario (sshd, the ubuntu user) with the
# SSH client it is reached with.
images: host
	scripts/build-image.sh bookworm pyops-uwsgi/debian:12
	scripts/build-image.sh trixie pyops-uwsgi/debian:13
	scripts/build-image.sh testing pyops-uwsgi/debian:testing
	scripts/host-setup.sh openssh-client
	scripts/build-ssh-image.sh pyops-uwsgi/debian:13 pyops-uwsgi/debian-ssh:13

# ansible-lint resolves pyops.uwsgi.* through this link to the checkout (it installs nothing offline).
lint: venv
	mkdir -p build/collections/ansible_collections/pyops
	ln -sfn $(CURDIR) build/collections/ansible_collections/pyops/uwsgi
	yamllint --strict .
	ANSIBLE_COLLECTIONS_PATH=$(CURDIR)/build/collections ansible-lint
	ruff check plugins tests molecule benchmarks
	ruff format --check plugins tests molecule benchmarks

sanity: venv
	scripts/ansible-test.sh sanity

units: venv
	scripts/ansible-test.sh units

molecule: venv images
	@for s in $(SCENARIOS); do \
	  echo "=== molecule test -s $$s"; \
	  molecule test -s $$s || exit 1; \
	done

test: lint sanity units molecule

demo: venv images
	scripts/demo.sh up

demo-clean: venv
	scripts/demo.sh clean

# Not part of `make test`: about 25 minutes on a quiet 2-CPU machine. BENCH_ARGS=--candidates also
# measures benchmarks/candidates.yml; BENCH_ARGS="--duration 3 --runs 1" for short runs. The figures
# are in build/bench/results.json as soon as each stage has them: after a failure,
# `build/bench-venv/bin/python benchmarks/report.py --markdown FILE --chart FILE` renders them.
bench: venv images
	$(PYTHON) -m venv build/bench-venv
	build/bench-venv/bin/pip install -q -r benchmarks/requirements.txt
	$(BIN)/python benchmarks/bench.py $(BENCH_ARGS)
	build/bench-venv/bin/python benchmarks/report.py

# Not part of `make test`: about 30 minutes, most of it the 8 hosts and waits for a quiet machine.
# SCALE_ARGS: e.g. --hosts 1 2, or --ref HEAD to converge a commit rather than the working tree.
scale: venv images
	$(BIN)/python benchmarks/scale.py $(SCALE_ARGS)
