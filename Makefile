# The two commands of the README: `make test` and `make demo`. Both create .venv when it is missing.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# CPU wheel of torch first: anything that pulls torch later finds it satisfied (no multi-GB CUDA build).
TORCH_SPEC ?= torch==2.13.0
STAMP := $(VENV)/.installed
DEMO_OUT ?= outputs/demo

.PHONY: install test test-fast lint demo clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q "$(TORCH_SPEC)"
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

lint: install
	$(VENV)/bin/ruff check src tests bench

# The whole suite, the real 0.5B model included (fetched and converted once into $LOGICTUNE_HOME).
test: lint
	$(PY) -m pytest -q

test-fast: lint
	$(PY) -m pytest -q -m "not slow"

# The whole loop on the default model: synthetic puzzles -> evaluate base -> LoRA-train -> evaluate again.
# Rerunning resumes (every step's output is kept in $(DEMO_OUT)); `make clean` starts over.
demo: install
	$(VENV)/bin/logictune demo --out-dir $(DEMO_OUT)

clean:
	rm -rf $(VENV) outputs .pytest_cache .ruff_cache
