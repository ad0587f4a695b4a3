# deepcorpus: `make demo` and `make test` do all set-up on a fresh machine.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Test workers: pytest-xdist across the cores (2 in CI).
JOBS ?= auto

.PHONY: setup demo test test-fast lint bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	@# On a machine without an NVIDIA GPU take the CPU build of torch (a looser pin pulls CUDA's).
	@if ! command -v nvidia-smi >/dev/null 2>&1; then \
		echo "no GPU: installing torch==2.13.0 (CPU build)"; \
		$(BIN)/pip install --quiet torch==2.13.0; \
	fi
	@# hf: safetensors and transformers, which the export/import tests check against (wheels ~20 MB, pure Python;
	@# nothing is downloaded at run time: the tests build their models).
	$(BIN)/pip install --quiet -e '.[dev,hf]'
	@touch $(STAMP)

demo: setup
	$(BIN)/deepcorpus demo --output demo-out

test: setup
	TRITON_INTERPRET=1 $(BIN)/pytest -n $(JOBS) --durations=15 tests

test-fast: setup
	TRITON_INTERPRET=1 $(BIN)/pytest -n $(JOBS) -m "not slow" tests

lint: setup
	$(BIN)/ruff check .

bench: setup
	$(BIN)/python -m benchmarks.run_all --output benchmarks/out

clean:
	rm -rf $(VENV) demo-out benchmarks/out .pytest_cache
