# Two commands set up a fresh machine:
#   make lab    - JupyterLab with zenml-notebook on the default stack (SQLite + local folder + in-process)
#   make test   - installs everything the suite needs, starts its services, runs every test
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8888
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)
PYTEST_ARGS ?=

.PHONY: venv lab demo demo-stop test lint bench bench-ab bench-compare clean system-deps

$(VENV)/.installed: pyproject.toml labextension/package.json labextension/yarn.lock labextension/src/*.ts labextension/style/*
	command -v node >/dev/null || bash .ci/install-system-deps.sh
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	rm -rf zenml_notebook/labextension  # rebuilt by the hatch hook (jlpm + jupyter-builder) during the install
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(PY) -m pip install --quiet -e ".[test,dev]"
	touch $@

venv: $(VENV)/.installed

# The printed URL and the browser open the quickstart itself; the "Jupyter news" question is
# switched off for this command only (an extra config path with its page_config; your own Lab
# settings stay as they are).
LAB_FLAGS = $(ROOT_FLAG) --ip=127.0.0.1 --port=$(PORT) --ServerApp.root_dir=notebooks \
	--LabApp.default_url=/lab/tree/quickstart.ipynb --LabApp.news_url=None $(LAB_EXTRA)
LAB_EXTRA ?=

lab: venv
	env JUPYTER_CONFIG_PATH=$(CURDIR)/jupyter-config/make-lab $(VENV)/bin/jupyter lab $(LAB_FLAGS)

# The remote notebook on this machine: MariaDB, a GCS emulator + bucket and a Dask scheduler with two
# workers on 127.0.0.1 under .demo/, its variables exported, the notebook opened; `make demo-stop` ends them.
demo: system-deps venv
	$(PY) notebooks/demo_services.py start --root $(CURDIR)/.demo
	set -a; . $(CURDIR)/.demo/env.sh; set +a; env JUPYTER_CONFIG_PATH=$(CURDIR)/jupyter-config/make-lab $(VENV)/bin/jupyter lab \
		$(ROOT_FLAG) --ip=127.0.0.1 --port=$(PORT) --ServerApp.root_dir=notebooks \
		--LabApp.default_url=/lab/tree/mysql-gcs-dask.ipynb --LabApp.news_url=None $(LAB_EXTRA)

demo-stop:
	$(PY) notebooks/demo_services.py stop --root $(CURDIR)/.demo

system-deps:
	bash .ci/install-system-deps.sh

# the JupyterHub test's environment: a venv every OS user can run, with the wheel of this checkout
# (see .ci/hub-env.sh); rebuilt when the package changes
HUB_ENV ?= /opt/zenml-notebook-hub
$(HUB_ENV)/.installed: $(VENV)/.installed $(shell find zenml_notebook -name '*.py')
	bash .ci/hub-env.sh $(HUB_ENV) $(VENV)

HUB_DEPS := $(if $(filter 0,$(shell id -u)),$(HUB_ENV)/.installed,)  # the hub test spawns servers as other OS users: root only

test: system-deps venv .venv-mlflow/.installed $(HUB_DEPS)
	cd labextension && PATH="$(CURDIR)/$(VENV)/bin:$$PATH" jlpm install && PATH="$(CURDIR)/$(VENV)/bin:$$PATH" jlpm test
	ZN_HUB_ENV=$(HUB_ENV) $(PY) -m pytest $(PYTEST_ARGS)

lint: venv
	$(VENV)/bin/ruff check zenml_notebook tests benchmarks notebooks/demo_services.py notebooks/make_notebooks.py
	$(VENV)/bin/mypy

# bytecode caching on, as users have it (some machines set PYTHONDONTWRITEBYTECODE, which makes
# every fresh process compile every module and inflates cold figures by a quarter)
BENCH := env -u PYTHONDONTWRITEBYTECODE $(PY)

bench: venv .venv-mlflow/.installed
	$(BENCH) benchmarks/bench_cli.py
	$(BENCH) benchmarks/bench_metadata.py
	$(BENCH) benchmarks/bench_artifacts.py
	$(BENCH) benchmarks/bench_pipelines.py
	$(BENCH) benchmarks/bench_server.py
	$(BENCH) benchmarks/bench_worker.py
	$(BENCH) benchmarks/bench_steps.py --runs 3 --long --kernel
	$(BENCH) benchmarks/bench_default_path.py --runs 15
	$(BENCH) benchmarks/bench_big.py --runs 3 --stores local,gcs,s3
	$(BENCH) benchmarks/bench_registry.py
	$(BENCH) benchmarks/bench_lifecycle.py
	$(BENCH) benchmarks/bench_explorer.py
	$(BENCH) benchmarks/bench_table.py
	$(BENCH) benchmarks/bench_metrics.py
	$(BENCH) benchmarks/bench_scale.py --runs 3
	$(BENCH) benchmarks/bench_tracker.py --runs 5
	$(BENCH) benchmarks/bench_postgresql.py --runs 5

# this checkout against an earlier revision, side by side (BEFORE=<git revision>)
bench-ab: venv
	test -n "$(BEFORE)" || (echo "give BEFORE=<git revision>"; exit 2)
	rm -rf .bench-before && git worktree prune && git worktree add -f .bench-before $(BEFORE)
	$(BENCH) benchmarks/bench_ab.py --before .bench-before --runs 30

# MLflow beside (not inside) our venv: the peer figure of bench_metrics.py (3.18.0's mlflow-tracing is
# missing from the index, so 3.17)
.venv-mlflow/.installed:
	$(PYTHON) -m venv .venv-mlflow
	.venv-mlflow/bin/pip install --quiet --upgrade pip
	.venv-mlflow/bin/pip install --quiet "mlflow==3.17.*"
	touch $@

.venv-zenml/.installed:
	$(PYTHON) -m venv .venv-zenml
	.venv-zenml/bin/pip install --quiet --upgrade pip
	.venv-zenml/bin/pip install --quiet "zenml[local]==0.98.*"
	touch $@

bench-compare: venv .venv-zenml/.installed
	$(BENCH) benchmarks/bench_compare.py --runs 5

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
