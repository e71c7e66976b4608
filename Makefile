# kubedrill — `make help` lists every target.
SHELL := /bin/bash
.DEFAULT_GOAL := help

include cluster/versions.env

# Cluster mode: auto (online when a registry answers, else offline), online, offline.
MODE ?= auto
# An existing cluster instead of the local kind one: make drill CONTEXT=staging [KUBECONFIG=~/.kube/staging]
CONTEXT ?=
# Extra pytest arguments, e.g. make drill ARGS="-k statefulset --seed 42"
ARGS ?=
# Your own Chaos Toolkit experiments (a file or a directory), drilled besides scenarios/:
# make drill EXPERIMENTS=examples/shop
EXPERIMENTS ?=
# Images of the pods kubedrill starts itself, for a cluster that pulls from its own registry
# (default: the pinned shell image, preloaded into the kind cluster):
# make drill CONTEXT=staging PROBER_IMAGE=registry.example.com/kubedrill/shell:1 WRITER_IMAGE=...
PROBER_IMAGE ?=
WRITER_IMAGE ?=
# make drill STORAGE_CLASS=all (or NAME[,NAME]): the storage scenarios once per StorageClass
STORAGE_CLASS ?=
# Parallel drills: make drill JOBS=N runs the scenarios in N worker processes (pytest-xdist -n N);
# those that change nodes run alone, after the others. README: "Parallel drills" says how to choose N.
JOBS ?= 1
# make drill PUSHGATEWAY=http://pushgateway:9091: push the run's metrics there (docs/metrics.md)
PUSHGATEWAY ?=

VENV := .venv
PY := $(VENV)/bin/python
PYTHON ?= python3
# kind, kubectl (built offline) and Go, wherever a fresh machine keeps them
export PATH := $(HOME)/.cache/kubedrill/bin:/usr/local/go/bin:$(PATH)
export KUBEDRILL_KUBE_VERSION := $(KUBE_VERSION)
export KUBEDRILL_CLUSTER_MODE := $(MODE)
export KUBEDRILL_CLUSTER_NAME := $(KIND_CLUSTER_NAME)

.PHONY: help
help: ## list every target
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z0-9_-]+:.*## / {printf "  make %-16s %s\n", $$1, $$2}' $(MAKEFILE_LIST)
	@echo "  variables: KUBE_VERSION=$(KUBE_VERSION) MODE=$(MODE) JOBS=$(JOBS) CONTEXT=(existing cluster) KUBECONFIG=... EXPERIMENTS=... PROBER_IMAGE=... WRITER_IMAGE=... STORAGE_CLASS=... PUSHGATEWAY=... ARGS=... ALLOW=... (make gate) REGISTRY=... INSECURE=1 IMAGES=... (make push)"

$(VENV)/.installed: pyproject.toml
	@echo "kubedrill: setting up the virtualenv in $(VENV)"
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install -q --upgrade pip >/dev/null
	@$(PY) -m pip install -q -e '.[dev]'
	@touch $@

.PHONY: venv
venv: $(VENV)/.installed ## create .venv with kubedrill and its pinned dependencies

.PHONY: docker
docker: ## start a Docker engine if none runs (installs Debian's docker.io if absent)
	@cluster/docker/ensure-docker.sh

.PHONY: images
images: docker ## build the offline node image and every cluster image (cached)
	@cluster/offline/build.sh >/dev/null

.PHONY: cluster
cluster: docker venv ## create or reuse the local kind cluster 'kubedrill' (1 control plane, 2 workers; never one a drill holds)
	@cluster/up.sh

.PHONY: helm
helm: ## build helm (HELM_VERSION, from its Go module) into ~/.cache/kubedrill/bin, for experiments' helm targets
	@cluster/helm.sh

.PHONY: monitoring
monitoring: ## build the Pushgateway, Prometheus and promtool (pinned, from Go modules) into ~/.cache/kubedrill/bin, for the metrics tests
	@cluster/monitoring.sh

.PHONY: image
image: docker venv ## build kubedrill's own image (IMAGE_KUBEDRILL: the in-cluster game-day runner), offline and cached
	@cluster/offline/build-kubedrill.sh >/dev/null

.PHONY: gameday-install
GAMEDAY_DEPS := $(if $(CONTEXT),venv,cluster image)
gameday-install: $(GAMEDAY_DEPS) ## install the in-cluster game day (deploy/gameday) on the kind cluster, or on CONTEXT= (image from your registry)
	@CONTEXT=$(CONTEXT) cluster/gameday.sh install

.PHONY: gameday-now
gameday-now: venv ## run the installed game day once now (a Job from its CronJob), follow it, copy its reports to reports/gameday/
	@CONTEXT=$(CONTEXT) cluster/gameday.sh now

.PHONY: registry-tools
registry-tools: ## build distribution's registry and crane (pinned, from Go modules) into ~/.cache/kubedrill/bin, for make push and its tests
	@cluster/registry.sh

# make push REGISTRY=registry.example.com/team: where the images go (a host, and a path in it);
# INSECURE=1: plain HTTP or an unverified certificate; IMAGES="kubedrill shell": only those
REGISTRY ?=
INSECURE ?=
IMAGES ?=

.PHONY: push
push: ## push the kubedrill, shell and postgres images from docker to REGISTRY=host/path (crane; log in first: README)
	@cluster/push.sh $(if $(filter-out 0,$(INSECURE)),--insecure) $(if $(IMAGES),--images '$(IMAGES)') '$(REGISTRY)'

.PHONY: actionlint
actionlint: ## build actionlint (ACTIONLINT_VERSION, from its Go module) into ~/.cache/kubedrill/bin, for the workflows' unit test
	@cluster/actionlint.sh

.PHONY: cluster-delete
cluster-delete: venv ## delete the local kind cluster kubedrill made (the image cache stays; never one a drill holds)
	@cluster/down.sh

ifeq ($(CONTEXT),)
DRILL_DEPS := venv cluster
# the local kind cluster can do everything a scenario needs: a missing capability fails the run
DRILL_TARGET := --require all
else
DRILL_DEPS := venv
DRILL_TARGET := --context $(CONTEXT) --allow-context $(CONTEXT) $(if $(KUBECONFIG),--kubeconfig $(KUBECONFIG))
endif

# a team's experiments may have helm targets: helm is built first (once; cached)
DRILL_DEPS += $(if $(EXPERIMENTS),helm)

# the kubedrill command (kubedrill/cli.py): `kubedrill drill ARGS` is `python -m pytest scenarios/ ARGS`
KUBEDRILL := $(VENV)/bin/kubedrill

# the pytest arguments of make drill and make plan, as the shell splits them (tests/unit/test_cli.py
# reads them back with every variable set)
DRILL_ARGS = $(DRILL_TARGET) $(foreach e,$(EXPERIMENTS),--experiments $(e)) \
	$(if $(PROBER_IMAGE),--prober-image '$(PROBER_IMAGE)') $(if $(WRITER_IMAGE),--writer-image '$(WRITER_IMAGE)') \
	$(if $(STORAGE_CLASS),--storage-class $(STORAGE_CLASS)) $(if $(filter-out 0 1,$(JOBS)),-n $(JOBS)) $(if $(PUSHGATEWAY),--pushgateway '$(PUSHGATEWAY)') $(ARGS)
PLAN_ARGS = $(DRILL_TARGET) $(foreach e,$(EXPERIMENTS),--experiments $(e)) \
	$(if $(STORAGE_CLASS),--storage-class $(STORAGE_CLASS)) $(ARGS)

.PHONY: drill
drill: $(DRILL_DEPS) ## the main job: run the DR scenarios (local kind cluster, or CONTEXT=...), write reports/
	$(KUBEDRILL) drill $(DRILL_ARGS)

# kubedrill plan adds --plan --alluredir= --junitxml= (empty): a plan writes no report, and leaves
# the last drill's where they are
.PHONY: plan
plan: venv ## print what make drill would touch (namespaces, objects, nodes, faults), touching nothing; same variables
	$(KUBEDRILL) plan $(PLAN_ARGS)

.PHONY: test-unit
test-unit: venv actionlint ## the project's unit tests (no cluster; actionlint lints .github/workflows/)
	$(PY) -m pytest tests/unit $(ARGS)

.PHONY: test-e2e
test-e2e: venv cluster helm monitoring registry-tools ## the project's end-to-end tests on the kind cluster
	$(PY) -m pytest tests/e2e --durations=40 $(ARGS)

.PHONY: torture
torture: venv cluster ## the harness's survival torture on the kind cluster (about an hour; benchmarks/results.md)
	KUBEDRILL_TORTURE_LOG=$(abspath $(REPORTS))/torture.log $(PY) -m pytest tests/e2e/torture.py -s --durations=0 $(ARGS)

.PHONY: test
test: ## the project's tests: unit, then e2e on a real kind cluster (does all its own set-up)
	@$(MAKE) --no-print-directory test-unit
	@$(MAKE) --no-print-directory test-e2e

.PHONY: report
report: venv ## build the HTML report (npm allure 3) into reports/html, keeping history
	@$(KUBEDRILL) report

# where make clean removes a run's results (the project's tests point it at their own)
REPORTS ?= reports

# make clean FORCE=1: release (forget) each undo that fails, after saying what it would have done;
# OTHER_HOSTS=1: also replay journals written on another host (once their runs are gone)
FORCE ?=
OTHER_HOSTS ?=

CLEAN_ARGS = --reports-dir $(REPORTS) $(if $(filter-out 0,$(FORCE)),--force) $(if $(filter-out 0,$(OTHER_HOSTS)),--other-hosts)

# with a virtualenv: kubedrill clean (the journal replayed, then the run's results removed; in a
# virtualenv made before the kubedrill command existed, the same module); without one there is no
# journal to replay: the same files removed (kubedrill.cli.CLEANED_*)
.PHONY: clean
clean: ## undo whatever a crashed run left (fault journal), remove reports/; FORCE=1 forgets undos that fail
	@if [ -x $(KUBEDRILL) ]; then $(KUBEDRILL) clean $(CLEAN_ARGS); \
	elif [ -x $(PY) ]; then $(PY) -m kubedrill.cli clean $(CLEAN_ARGS); \
	else rm -rf $(REPORTS)/allure-results $(REPORTS)/junit.xml $(REPORTS)/results.json $(REPORTS)/verdict .pytest_cache; fi

# make gate ALLOW=CLASS: the worst verdict class a release gate lets through (default passed)
ALLOW ?= passed

.PHONY: gate
gate: venv ## a release gate: exit 0 when the last drill's reports/verdict is no worse than ALLOW (passed), else its code
	@$(KUBEDRILL) gate --reports-dir $(REPORTS) --allow '$(ALLOW)'

.PHONY: summary
summary: venv ## the last drill's verdict and scenarios as Markdown: appended to the CI job summary (GITHUB_STEP_SUMMARY), else printed
	@$(KUBEDRILL) summary --reports-dir $(REPORTS)

.PHONY: version
version: venv ## the versions of kubedrill, the kubernetes client, chaostoolkit-lib and Python
	@$(KUBEDRILL) version

.PHONY: distclean
distclean: clean cluster-delete ## clean, delete the cluster and the virtualenv (the image cache stays)
	rm -rf $(VENV)
