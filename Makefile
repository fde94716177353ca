# Two commands are all a newcomer needs: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test

.PHONY: demo test faults lint typecheck bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# The demo needs the runtime only; tests, lint and the fault suite add the test and dev extras.
$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $(STAMP)

$(TEST_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test,dev]'
	touch $(TEST_STAMP)

demo: $(STAMP)
	$(BIN)/rhizome demo

test: $(TEST_STAMP)
	$(BIN)/python -m pytest -q

# The fault suite alone (also part of `make test`): FAULTS_SEED=<seed> replays a failure.
faults: $(TEST_STAMP)
	$(BIN)/python -m pytest -q tests/faults tests/attacks/test_kill_during_purge.py tests/attacks/test_disk_full.py

lint: $(TEST_STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy crypto federation governance archive node

bench: $(STAMP)
	$(BIN)/python -c 'import matplotlib' 2>/dev/null || $(BIN)/python -m pip install --quiet -e '.[bench]'
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
