# Refinery: `make run` (the whole pipeline on a real sample, local mode) and `make test`.
# A fresh machine needs only python3 (3.11), Java 17 and Maven: this file makes the rest.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
JARS_DIR := .jars
INSTALLED := $(VENV)/.installed
JARS := $(JARS_DIR)/.resolved
JVM_JAR := $(JARS_DIR)/refinery-jvm.jar
JVM_SOURCES := $(wildcard jvm/src/refinery/jvm/*.java)
AIRFLOW_VENV := .venv-airflow
AIRFLOW_INSTALLED := $(AIRFLOW_VENV)/.installed
CONF ?= conf/local.yaml
PYTEST_ARGS ?=
# make test and its tiers run in this many pytest-xdist workers (0: in this process, one by one);
# tests/conftest.py keeps each module, and modules sharing a fixture, in one worker.
PYTEST_WORKERS ?= 2
PYTEST := $(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadgroup --no-loadscope-reorder

export REFINERY_HOME := $(CURDIR)
export PYSPARK_PYTHON := $(CURDIR)/$(BIN)/python
export PYSPARK_DRIVER_PYTHON := $(CURDIR)/$(BIN)/python

.PHONY: all install jars airflow chromium run test test-fast test-unit test-spark test-e2e bench lint typecheck format bundle dist dist-code \
	dist-env cluster-start cluster-stop constraints constraints-airflow clean distclean

all: install jars

install: $(INSTALLED)
jars: $(JARS) $(JVM_JAR)

$(INSTALLED): requirements.txt constraints.txt setup.py
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt -c constraints.txt
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $@

$(JARS): scripts/delta-jars/pom.xml scripts/fetch_jars.sh
	bash scripts/fetch_jars.sh $(JARS_DIR)

# ingest's JVM reader of UTF-8 JSONL (libs/refinery/ingest/jvm_lines.py), compiled against pyspark's jars
$(JVM_JAR): $(JVM_SOURCES) scripts/build_jvm.sh $(JARS) $(INSTALLED)
	bash scripts/build_jvm.sh $(BIN)/python $@

## airflow: Apache Airflow and its Spark provider in .venv-airflow (their pins clash with ours)
airflow: $(AIRFLOW_INSTALLED)

$(AIRFLOW_INSTALLED): requirements-airflow.txt constraints-airflow.txt
	test -x $(AIRFLOW_VENV)/bin/python || $(PYTHON) -m venv $(AIRFLOW_VENV)
	$(AIRFLOW_VENV)/bin/pip install --quiet --disable-pip-version-check --upgrade pip
	$(AIRFLOW_VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-airflow.txt -c constraints-airflow.txt
	touch $@

## chromium: headless Chromium (Debian's package) for the test that renders the run report
chromium:
	command -v chromium >/dev/null || (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium)

## run: the whole pipeline on the shared corpora sample; Delta tables under ./data/. The
## pipeline ends with the report job; the summary's last line is the HTML report's path.
run: install jars
	$(BIN)/refinery pipeline --conf $(CONF)
	$(BIN)/refinery summary --conf $(CONF)

## test: the whole suite (slow tests included), real Spark and real Delta
test: install jars airflow chromium
	$(PYTEST) $(PYTEST_ARGS)

## test-fast: skip tests marked slow (the spark and e2e tiers): tests/unit only
test-fast: install jars
	$(PYTEST) -m "not slow" $(PYTEST_ARGS)

## test-unit / test-spark / test-e2e: one tier: tests/unit (pure Python), tests/spark (in-process
## SparkSession, real Delta), tests/e2e (spark-submit, pipelines, cluster, Airflow, crash trials)
test-unit: install jars
	$(PYTEST) tests/unit $(PYTEST_ARGS)

test-spark: install jars chromium
	$(PYTEST) tests/spark $(PYTEST_ARGS)

test-e2e: install jars airflow chromium
	$(PYTEST) tests/e2e $(PYTEST_ARGS)

## bench: benchmarks, results as JSON under bench/results/
bench: install jars
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-bench.txt -c constraints.txt
	$(BIN)/python -m bench.run

lint: install
	$(BIN)/ruff check libs jobs tests scripts bench setup.py
	$(BIN)/ruff format --check libs jobs tests scripts bench setup.py

## typecheck: mypy over libs/ (settings in mypy.ini)
typecheck: install
	$(BIN)/mypy

format: install
	$(BIN)/ruff format libs jobs tests scripts bench setup.py
	$(BIN)/ruff check --fix libs jobs tests scripts bench setup.py

## bundle: dist/refinery.zip for spark-submit --py-files
bundle: install
	$(BIN)/python scripts/build_bundle.py dist/refinery.zip

## dist: what a cluster needs, under dist/: the wheel, the --py-files zip and the executors'
## packed virtualenv (--archives dist/refinery-env.tar.gz#environment; several GB: torch)
dist: dist-code dist-env

## dist-code: the refinery wheel and the --py-files zip (seconds)
dist-code: install
	rm -f dist/refinery-*.whl
	$(BIN)/pip wheel --quiet --disable-pip-version-check --no-deps --wheel-dir dist .
	$(BIN)/python scripts/build_bundle.py dist/refinery.zip

## dist-env: dist/refinery-env.tar.gz, a fresh venv of the pinned requirements and the wheel, packed
dist-env: dist-code
	bash scripts/pack_env.sh dist/refinery-env.tar.gz

## cluster-start / cluster-stop: a Spark standalone master and worker on 127.0.0.1:7077
cluster-start: install
	bash scripts/local_cluster.sh start
cluster-stop:
	bash scripts/local_cluster.sh stop

## constraints: re-pin every transitive dependency after changing requirements.txt
constraints: install
	{ echo "# Every installed package, pinned (pip freeze of a working venv); regenerate with: make constraints"; \
	  $(BIN)/pip freeze --exclude-editable | grep -v '^refinery'; } > constraints.txt

## constraints-airflow: re-pin .venv-airflow after changing requirements-airflow.txt
constraints-airflow: airflow
	{ echo "# Every package of .venv-airflow, pinned (pip freeze of a working venv); regenerate with: make constraints-airflow"; \
	  $(AIRFLOW_VENV)/bin/pip freeze; } > constraints-airflow.txt

clean:
	rm -rf data dist spark-warehouse .pytest_cache .ruff_cache .cluster

distclean: clean
	rm -rf $(VENV) $(AIRFLOW_VENV) $(JARS_DIR)
