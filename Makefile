# Two commands on a fresh machine with only Python: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
SAMPLES := build/samples/.made
# The current official SDK, beside the classic one in .venv (tests drive the emulator's current surface with it).
SDK136 := build/sdk-1.3.6/.installed

.PHONY: venv sdk136 samples test demo up down lint clean

venv: $(STAMP)

sdk136: $(SDK136)

# --no-deps: its dependencies (httpx, pydantic, typing-extensions) are in .venv; httpx-sse is its only extra.
$(SDK136): $(STAMP)
	$(PY) -m pip install --quiet --no-deps --upgrade --target build/sdk-1.3.6 twelvelabs==1.3.6 httpx-sse==0.4.0
	touch $(SDK136)

$(STAMP): requirements.txt shared/requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $(STAMP)

samples: $(SAMPLES)

$(SAMPLES): $(STAMP) scripts/make_samples.py
	$(PY) scripts/make_samples.py build/samples
	touch $(SAMPLES)

# Tests run in parallel worker processes (pytest-xdist), a test module per worker at a time (loadscope: a module's
# stack is deployed once). Most tests wait on a pipeline, so 4 workers keep 2 cores busy; PYTEST_WORKERS=0 runs
# them in this process.
PYTEST_WORKERS ?= 4

# Lint first: style and types are part of the suite (CI runs `make test`).
test: lint $(SDK136) $(SAMPLES)
	$(PY) -m pytest -q -n $(PYTEST_WORKERS) --dist loadscope $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy shared functions
	$(VENV)/bin/cfn-lint template.yaml

# VIDEOS="a.mp4 b.mov" runs your own files instead of the samples.
demo: $(STAMP) $(SDK136) $(SAMPLES)
	$(PY) -m local_stack demo $(if $(VIDEOS),--videos $(VIDEOS),)

up: $(STAMP) $(SAMPLES)
	$(PY) -m local_stack up

down: $(STAMP)
	$(PY) -m local_stack down

clean:
	rm -rf build .pytest_cache
