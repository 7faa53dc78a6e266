# cdp-analysis: the two commands a newcomer runs are `make report` and `make test`.
# Both create .venv if it is missing, install the pinned environment, register the
# Jupyter kernel, then run. Nothing needs installing by hand beyond Python >= 3.11.

PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
CDPS   ?= nottinghamshire northamptonshire
STAMP   = $(VENV)/.installed-stamp
KERNEL  = cdp-analysis

.PHONY: report test setup kernel golden lint lab clean-cache clean help

help:
	@echo "make report   set up .venv and run the needs assessment for: $(CDPS)"
	@echo "make test     set up .venv and run the whole test suite (unit, notebooks, nbval)"
	@echo "make golden   regenerate the golden executed notebooks used by nbval (tests/golden/)"
	@echo "make lint     check the package, tests, benchmarks and notebooks with ruff (pinned; part of make test)"
	@echo "make lab      open the notebooks in JupyterLab with the suite's kernel"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python pyproject.toml requirements/constraints.txt
	$(BIN)/python -m pip install --quiet -c requirements/constraints.txt -e ".[test]"
	$(BIN)/python -m ipykernel install --sys-prefix --name $(KERNEL) --display-name "Python (cdp-analysis)"
	touch $(STAMP)

setup: $(STAMP)

report: $(STAMP)
	$(BIN)/cdp run $(CDPS)

test: lint
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check cdp_analysis tests benchmarks notebooks

golden: $(STAMP)
	$(BIN)/python tests/make_golden.py

lab: $(STAMP)
	$(BIN)/jupyter lab notebooks/

clean-cache:
	rm -rf data/cache

clean:
	rm -rf outputs/* data/cache .pytest_cache
