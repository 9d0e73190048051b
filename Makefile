# feedlab: `make build` builds the synthetic warehouse from a fresh clone; `make test` runs every test.
# Other data sets: make build DATASET=movielens VARS='{movielens_path: ../shared/data/ml-100k}'

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DATASET ?= synthetic
VARS ?=
# extra dbt arguments for make build, e.g. DBT_ARGS=--full-refresh to restart a feedback-loop replay
DBT_ARGS ?=

.PHONY: install build test bench report summary export spark-install test-spark clean

$(BIN)/.feedlab-installed: requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $@

install: $(BIN)/.feedlab-installed

build: install
	$(BIN)/python -m feedlab.build --dataset $(DATASET) --vars '$(VARS)' -- $(DBT_ARGS)

# pytest exits 5 when a selection collects no test: that is not a failure of the suite.
# The suite includes the Spark parity test, hence the spark venv (it also needs Java 17).
# Most of the suite's time is dbt builds that keep about one core busy, so the test files run on TEST_WORKERS
# processes (pytest-xdist; all of a file's tests on one worker, so a module's shared warehouse is built once).
TEST_WORKERS ?= 2
test: install spark-install
	$(BIN)/python -m pytest --numprocesses $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then exit 0; else exit $$rc; fi

report: install
	$(BIN)/python -m feedlab.report --warehouse warehouse/$(DATASET).duckdb --out reports/feedlab_report_$(DATASET).html

summary: install
	$(BIN)/python -m feedlab.summary --warehouse warehouse/$(DATASET).duckdb

export: install
	$(BIN)/python -m feedlab.export --warehouse warehouse/$(DATASET).duckdb --out exports/$(DATASET)/

# DuckDB builds at 1x/10x/100x, the seed notebook's method beside the warehouse's model on the seed-compat world,
# the recsys micro-benchmarks, leave-last-out's leak (popularity; on MovieLens also svd and the ranker retrained per
# user), two 1x builds compared table by table, then the 1x and 10x worlds on Spark beside DuckDB and the feedback
# loop's day-by-day replay on both (needs Java 17).
bench: install spark-install
	$(BIN)/python bench/run.py
	$(BIN)/python bench/run.py --scales --no-movielens --kuairec-shaped --name bench_kuairec_shaped
	$(BIN)/python bench/seed_method.py --repeat 31
	$(BIN)/python bench/micro_recsys.py --repeat 5
	$(BIN)/python bench/leakage.py --warehouse bench/.work/synthetic_1x/warehouse/synthetic.duckdb
	if [ -f bench/.work/movielens/warehouse/movielens.duckdb ]; then \
		$(BIN)/python bench/leakage.py --warehouse bench/.work/movielens/warehouse/movielens.duckdb && \
		$(BIN)/python bench/leakage_retrain.py --warehouse bench/.work/movielens/warehouse/movielens.duckdb; fi
	$(BIN)/python bench/determinism.py
	$(BIN)/python bench/spark_bench.py
	$(BIN)/python bench/spark_replay.py --days 1 2

# Optional Spark target (issue: scaling out): its own venv, so the default install stays lean. Needs Java 17.
SPARK_VENV := .venv-spark
$(SPARK_VENV)/bin/.feedlab-spark-installed: requirements-spark.txt
	$(PYTHON) -m venv $(SPARK_VENV)
	$(SPARK_VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-spark.txt
	touch $@

spark-install: $(SPARK_VENV)/bin/.feedlab-spark-installed

test-spark: install spark-install
	$(BIN)/python -m pytest tests/python/test_spark_parity.py

# A running build holds warehouse/.building/<dataset>.lock: removing it (and its scratch file) would let a second
# build start beside the first, so clean refuses while any lock is held.
clean:
	@for lock in warehouse/.building/*.lock; do \
		[ -e "$$lock" ] || continue; \
		flock -n "$$lock" true || { echo "make clean: a build holds $$lock; wait for it to finish"; exit 1; }; \
	done
	rm -rf target logs warehouse/.building
