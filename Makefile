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

.PHONY: run test test-app test-library lint bench

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
	$(LIBBIN)/$(PIP) -e '.[test,onnx]'
	touch $(LIBSTAMP)

run: $(STAMP)
	$(BIN)/netcost $(ARGS)

test: test-app test-library

test-app: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest --ignore=tests/library $(PYTEST_ARGS)

test-library: $(LIBSTAMP)
	QT_QPA_PLATFORM=offscreen NETCOST_REQUIRE_LIBRARIES=1 $(LIBBIN)/python -m pytest tests/library $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .

bench: $(STAMP)
	$(BIN)/python bench/engine.py
