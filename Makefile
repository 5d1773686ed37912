# Set-up is part of every target: a fresh machine needs only Python 3.10+ and make.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The second environment: the user's libraries (torchvision, timm, transformers, the peer counting tools) at the
# versions whose published figures tests/library checks.
LIBVENV := .venv-lib
LIBBIN := $(LIBVENV)/bin
LIBSTAMP := $(LIBVENV)/.installed
PIP := pip install --disable-pip-version-check -q
# Hypothesis's budget (tests/conftest.py): `quick` (25 examples a property) for `make test`, `full` (200) for
# `make test-all` and CI; `make test HYPOTHESIS_PROFILE=full` works too.
HYPOTHESIS_PROFILE ?= quick
# COVERAGE=1: the line coverage of the netcost package (pytest-cov) printed after the app's suite, the files below
# 100 % listed. CI (.ci/run) and `make test-all` set it; off by default, as tracing every line slows the suite.
COVERAGE ?= 0
COV := $(if $(filter 1,$(COVERAGE)),--cov --cov-report=term)
# The app's suite runs in parallel processes (pytest-xdist): one per core, at most four (each imports torch and Qt).
# Tests grouped by file share their module-scoped windows and traces. TEST_JOBS=0 runs it in this one process.
TEST_JOBS ?= auto
XDIST := $(if $(filter 0,$(TEST_JOBS)),-p no:xdist,-n $(TEST_JOBS) --maxprocesses=4 --dist loadfile)

.PHONY: run test test-app test-library test-all lint bench

$(STAMP): pyproject.toml setup.py
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	# The CPU build of torch first, unless the venv already has a torch (the user's, kept as it is): a bare
	# `torch` requirement would make pip fetch a multi-GB CUDA build.
	$(BIN)/python -c "import torch" 2>/dev/null || $(BIN)/pip install --disable-pip-version-check -q torch==2.13.0
	$(BIN)/$(PIP) -e '.[test,onnx]'
	touch $(STAMP)

$(LIBSTAMP): pyproject.toml setup.py tests/library/requirements.txt bench/requirements-peers.txt
	test -x $(LIBBIN)/python || $(PY) -m venv $(LIBVENV)
	$(LIBBIN)/$(PIP) -r tests/library/requirements.txt
	# the peers' pins carry their own pure-Python needs; --no-deps keeps the torch above
	$(LIBBIN)/$(PIP) --no-deps -r bench/requirements-peers.txt
	$(LIBBIN)/$(PIP) -e '.[test,onnx,library]'
	touch $(LIBSTAMP)

run: $(STAMP)
	$(BIN)/netcost $(ARGS)

# `make test`: the app's own suite in .venv, in minutes. `make test-library`: tests/library in .venv-lib (CI's second
# step; a skip fails there). `make test-all`: both, with the full hypothesis budget.
test: test-app

test-app: $(STAMP)
	QT_QPA_PLATFORM=offscreen HYPOTHESIS_PROFILE=$(HYPOTHESIS_PROFILE) $(BIN)/python -m pytest --ignore=tests/library \
		$(XDIST) $(COV) $(PYTEST_ARGS)

test-library: $(LIBSTAMP)
	QT_QPA_PLATFORM=offscreen HYPOTHESIS_PROFILE=$(HYPOTHESIS_PROFILE) NETCOST_REQUIRE_LIBRARIES=1 \
		$(LIBBIN)/python -m pytest tests/library $(PYTEST_ARGS)

test-all:
	$(MAKE) test-app test-library HYPOTHESIS_PROFILE=full COVERAGE=1

lint: $(STAMP)
	$(BIN)/ruff check .

bench: $(STAMP)
	$(BIN)/python bench/engine.py
