# `make run` and `make test` create .venv on first use (the constraints file pins the tested
# CPU torch), then run the main job or the test suite. `make docs` builds the manual,
# `make bench` runs the benchmarks.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test docs bench clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e ".[dev]" -c constraints.txt
	touch $(STAMP)

# The main job: a MaskablePPO search on embedded defaults (zero-cost proxy, local SQLite store).
run: $(STAMP)
	$(BIN)/livgym search runs/quickstart.yaml

# Two pytest-xdist workers: the suite is single-threaded, so both cores halve its time.
test: $(STAMP)
	$(BIN)/python -m pytest -q -n 2

# The manual (docs/, mkdocs.yml) into site/: --strict makes any warning (a broken link, an API
# reference or registry table that no longer resolves) an error. It needs no network.
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --site-dir site

bench: $(STAMP)
	cd benchmarks && ../$(BIN)/python genome_ops.py && ../$(BIN)/python scan.py && ../$(BIN)/python train_step.py && ../$(BIN)/python env_step_rate.py

clean:
	rm -rf $(VENV) build site *.egg-info
