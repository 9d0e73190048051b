# feedlab: `make build` builds the synthetic warehouse from a fresh clone; `make test` runs every test.
# Other data sets: make build DATASET=movielens VARS='{movielens_path: ../shared/data/ml-100k}'

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DATASET ?= synthetic
VARS ?=

.PHONY: install build test bench report summary export clean

$(BIN)/.feedlab-installed: requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $@

install: $(BIN)/.feedlab-installed

build: install
	$(BIN)/python -m feedlab.build --dataset $(DATASET) --vars '$(VARS)'

# pytest exits 5 when a selection collects no test: that is not a failure of the suite.
test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS); rc=$$?; if [ $$rc -eq 5 ]; then exit 0; else exit $$rc; fi

report: install
	$(BIN)/python -m feedlab.report --warehouse warehouse/$(DATASET).duckdb --out reports/feedlab_report.html

summary: install
	$(BIN)/python -m feedlab.summary --warehouse warehouse/$(DATASET).duckdb

export: install
	$(BIN)/python -m feedlab.export --warehouse warehouse/$(DATASET).duckdb --out exports/$(DATASET)/

bench: install
	$(BIN)/python bench/run.py

clean:
	rm -rf target logs warehouse/.building
