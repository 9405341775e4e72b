# One entry point for every job. `make demo` and `make test` work on a fresh machine: they create the
# Python 3.10 environment from requirements/lock.txt first.
SHELL := /bin/bash
# pyenv's shims refuse to run a version that is not selected, so prefer the real interpreter path.
PY310 ?= $(firstword $(wildcard $(HOME)/.pyenv/versions/3.10*/bin/python3.10) $(shell command -v python3.10))
VENV := .venv
PY := $(VENV)/bin/python
UV := $(shell command -v uv 2>/dev/null || echo $(HOME)/.local/bin/uv)
export TF_USE_LEGACY_KERAS := 1
export TF_CPP_MIN_LOG_LEVEL := 2
export PYTHONWARNINGS := ignore::FutureWarning
DATA ?= ../shared/data
# Test processes (pytest-xdist, whole files per process): the suite is mostly single-threaded TFX, Beam and
# process start-up, so 2 processes on 2 cores take ~2/3 of the serial time. More cores: `make test TEST_WORKERS=4`.
TEST_WORKERS ?= 2
OUT ?= runs/demo

.PHONY: venv test demo lint lock benchmarks clean

$(UV):
	python3 -m pip install --quiet --user uv || python3 -m pip install --quiet uv

$(VENV)/.installed: requirements/lock.txt setup.py | $(UV)
	$(UV) venv --allow-existing --python $(PY310) $(VENV)
	$(UV) pip sync --python $(PY) requirements/lock.txt
	$(UV) pip install --python $(PY) --no-deps -e .
	touch $@

venv: $(VENV)/.installed

# The suite, plus every docstring example of the library (so they stay true).
test: venv
	$(VENV)/bin/ruff check .
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile --doctest-modules ssr_keras tests

demo: venv
	$(PY) -m examples.demo --data $(DATA)/frappe-ctr --output $(OUT)

lint: venv
	$(VENV)/bin/ruff check .

benchmarks: venv
	$(PY) benchmarks/layers.py

lock: | $(UV)
	$(UV) pip compile requirements/lock.in --python-version 3.10 \
	  --python-platform x86_64-manylinux_2_31 -o requirements/lock.txt

clean:
	rm -rf $(VENV) build *.egg-info
