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
SCENARIOS ?= default ec2_like fleet multi_python pitfalls tls real_apps

.PHONY: help venv host images lint package sanity units molecule test checks-static checks-ansible-test demo \
  demo-clean bench bench-smoke scale

help:
	@echo "make demo        deploy the sample app on a local stand-in host and show its page"
	@echo "make demo-clean  remove the demo host"
	@echo "make test        lint, package, sanity, unit tests, Molecule scenarios ($(SCENARIOS)), bench smoke"
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
	check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml
	# A HOME of its own: a copy of the collection that Molecule left in ~/.ansible would win.
	HOME=$(CURDIR)/build/lint-home ANSIBLE_COLLECTIONS_PATH=$(CURDIR)/build/collections ansible-lint
	ruff check plugins tests molecule benchmarks
	ruff format --check plugins tests molecule benchmarks

# The collection as published: build the tarball, install it offline and load each role, plugin and
# playbook from that copy alone (build/package/, seconds).
package: venv
	scripts/package-check.sh

sanity: venv
	scripts/ansible-test.sh sanity

# Then the AWS parts against moto's server on loopback (tests/aws, about 30 s; no AWS account).
units: venv
	scripts/ansible-test.sh units
	pytest -q -p no:cacheprovider tests/aws

molecule: venv images
	@for s in $(SCENARIOS); do \
	  echo "=== molecule test -s $$s"; \
	  molecule test -s $$s || exit 1; \
	done

# The checks without containers run as two jobs side by side, each output shown whole when it ends:
# lint then package, and sanity then units (both copy the collection into build/ansible_collections
# and use ansible-test's venv, so one after the other). Then the scenarios, then the bench smoke.
test: venv
	$(MAKE) --no-print-directory -j2 --output-sync=recurse checks-static checks-ansible-test
	$(MAKE) --no-print-directory molecule bench-smoke

checks-static: venv
	$(MAKE) --no-print-directory lint
	$(MAKE) --no-print-directory package

checks-ansible-test: venv
	$(MAKE) --no-print-directory sanity
	$(MAKE) --no-print-directory units

demo: venv images
	scripts/demo.sh up

demo-clean: venv
	scripts/demo.sh clean

# Not part of `make test`: about 45 minutes on a quiet 2-CPU machine. BENCH_ARGS=--candidates also
# measures benchmarks/candidates.yml; BENCH_ARGS="--duration 3 --runs 1" for short runs. The figures
# are in build/bench/results.json as soon as each stage has them: after a failure,
# `build/bench-venv/bin/python benchmarks/report.py --markdown FILE --chart FILE` renders them.
BENCH_VENV := build/bench-venv
bench: venv images $(BENCH_VENV)/.installed
	$(BIN)/python benchmarks/bench.py $(BENCH_ARGS)
	$(BENCH_VENV)/bin/python benchmarks/report.py

# The report's own venv (matplotlib), not the collection's tools.
$(BENCH_VENV)/.installed: benchmarks/requirements.txt
	$(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/pip install -q -r benchmarks/requirements.txt
	touch $@

# The sample app's requirements on this machine, for benchmarks/tests/test_inprocess.py.
BENCH_APP_VENV := build/bench-app-venv
$(BENCH_APP_VENV)/.installed: examples/apps/hello/requirements.txt
	$(PYTHON) -m venv $(BENCH_APP_VENV)
	$(BENCH_APP_VENV)/bin/pip install -q -r examples/apps/hello/requirements.txt
	touch $@

# Part of `make test`: the bench's unit tests, then the whole bench as short as it goes (every stage,
# one round of 1 s per stack, no warm-up, no idempotent re-run (Molecule checks that), one redeploy
# (the Emperor's; the full bench moves the app to a unit of its own too) and no control, no waiting
# for a quiet machine) in a container of its own, its report rendered into build/bench-smoke/ (never
# docs/), and every partial state the results file went through rendered too. Fails if any stage
# fails or the run broke a requirement.
BENCH_SMOKE := build/bench-smoke
BENCH_SMOKE_NAME := pyops-uwsgi-bench-smoke-$(shell printf '%s' '$(CURDIR)' | cksum | cut -d' ' -f1)
BENCH_SMOKE_ARGS ?= --duration 1 --runs 1 --warmup 0 --in-process-seconds 0.2 --open-loop-seconds 1 \
  --ablation-runs 1 --ablation-duration 1 --ablation-warmup 0 --no-rerun --max-wait 0 --redeploys 1 \
  --no-control
bench-smoke: venv images $(BENCH_VENV)/.installed $(BENCH_APP_VENV)/.installed
	pytest -q -p no:cacheprovider benchmarks/tests --ignore benchmarks/tests/test_report.py
	rm -rf $(BENCH_SMOKE)
	PYOPS_BENCH_NAME=$(BENCH_SMOKE_NAME) $(BIN)/python benchmarks/bench.py $(BENCH_SMOKE_ARGS) \
	  --output $(BENCH_SMOKE)/results.json --snapshots $(BENCH_SMOKE)/snapshots
	$(BENCH_VENV)/bin/python benchmarks/report.py $(BENCH_SMOKE)/results.json \
	  --markdown $(BENCH_SMOKE)/benchmark.md --chart $(BENCH_SMOKE)/benchmark.png
	PYOPS_BENCH_SNAPSHOTS=$(BENCH_SMOKE)/snapshots pytest -q -p no:cacheprovider \
	  benchmarks/tests/test_report.py

# Not part of `make test`: about 30 minutes, most of it the 8 hosts and waits for a quiet machine.
# SCALE_ARGS: e.g. --hosts 1 2, or --ref HEAD to converge a commit rather than the working tree.
scale: venv images
	$(BIN)/python benchmarks/scale.py $(SCALE_ARGS)
