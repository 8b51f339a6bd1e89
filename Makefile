# `make run` and `make test` create .venv on first use (the constraints file pins the tested
# CPU torch), then run the main job or the test suite. `make bench` runs the benchmarks.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test bench clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e ".[dev]" -c constraints.txt
	touch $(STAMP)

# Until `livgym search` lands, the main job prints what the search space's designs cost.
run: $(STAMP)
	$(BIN)/livgym genome references --width 768 --depth 24 --context-length 4096
	$(BIN)/livgym genome show transformer++ --width 2048 --heads 16 --depth 48 --context-length 4096 32768

test: $(STAMP)
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	cd benchmarks && ../$(BIN)/python genome_ops.py && ../$(BIN)/python scan.py && ../$(BIN)/python train_step.py

clean:
	rm -rf $(VENV) build *.egg-info
