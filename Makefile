# cdp-analysis: the two commands a newcomer runs are `make report` and `make test`.
# Both create .venv if it is missing, install the pinned environment, register the
# Jupyter kernel, then run. Nothing needs installing by hand beyond Python >= 3.11.

PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
CDPS   ?= nottinghamshire northamptonshire
STAMP   = $(VENV)/.installed-stamp
KERNEL  = cdp-analysis
SUDO   ?= $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: report test setup kernel golden lint lab browser-check summary-pictures docs clean-cache clean help

help:
	@echo "make report   set up .venv and run the needs assessment for: $(CDPS)"
	@echo "make test     set up .venv and run the whole test suite (unit, notebooks, nbval)"
	@echo "make golden   regenerate the golden executed notebooks used by nbval (tests/golden/)"
	@echo "make docs     regenerate docs/settings.md (every params key) from the chapters' settings models"
	@echo "make lint     check the package, tests, benchmarks and notebooks with ruff (pinned; part of make test)"
	@echo "make lab      open the notebooks in JupyterLab with the suite's kernel"
	@echo "make browser-check  install headless Chromium (Debian), print each report to PDF and check no page cuts"
	@echo "make summary-pictures  the seed CDPs' one-page summaries as PNG pictures in docs/"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python pyproject.toml requirements/constraints.txt
	$(BIN)/python -m pip install --quiet -c requirements/constraints.txt -e ".[test]"
	$(BIN)/python -m ipykernel install --sys-prefix --name $(KERNEL) --display-name "Python (cdp-analysis)"
	touch $(STAMP)

setup: $(STAMP)

report: $(STAMP)
	$(BIN)/cdp run $(CDPS)

# Two pytest workers (2 cores), whole files per worker (a golden notebook's cells run in order in one kernel);
# the end-to-end runs several files share are made once (tests/conftest.py). JOBS=1: one after another.
JOBS ?= 2
test: lint
	$(BIN)/python -m pytest -n $(JOBS) --dist loadfile

lint: $(STAMP)
	$(BIN)/ruff check cdp_analysis tests benchmarks notebooks

# Headless Chromium and poppler from Debian's packages, installed here (needs root or sudo); PDFs and
# screenshots land in outputs/browser-check/ to look at.
browser-check: $(STAMP)
	@command -v chromium >/dev/null 2>&1 && command -v pdftotext >/dev/null 2>&1 || \
	  { $(SUDO) apt-get update -q && $(SUDO) apt-get install -y -q chromium poppler-utils; }
	$(BIN)/python -m pytest -m browser tests/test_browser.py -p no:xdist

# the seed CDPs' one-page summaries as pictures in docs/ (after `make browser-check`, which prints them)
summary-pictures: browser-check
	for slug in nottinghamshire northamptonshire; do \
	  pdftoppm -singlefile -r 60 -png outputs/browser-check/$$slug-summary.pdf docs/summary-$$slug; done

docs: $(STAMP)
	env -u CDP_ANALYSIS_CHAPTER_PATH $(BIN)/python -c "from cdp_analysis.chapters import registry; \
	  print(registry.settings_reference())" > docs/settings.md.tmp && mv docs/settings.md.tmp docs/settings.md

golden: $(STAMP)
	$(BIN)/python tests/make_golden.py

lab: $(STAMP)
	$(BIN)/jupyter lab notebooks/

clean-cache:
	rm -rf data/cache

clean:
	rm -rf outputs/* data/cache .pytest_cache
