# Two commands: `make run` serves the embedded default (SQLite, local files, keys made
# on first run); `make test` runs the linters, the type checker and the whole suite.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PYTEST_ARGS ?=
# Test processes: pytest-xdist's "auto" is one per core (each has its own databases).
TEST_WORKERS ?= auto

.PHONY: run test install install-dev lint bench lock clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.runtime: requirements.lock pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

$(VENV)/.dev: requirements-dev.lock pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@ $(VENV)/.runtime

install: $(VENV)/.runtime
install-dev: $(VENV)/.dev

run: $(VENV)/.runtime
	@if [ ! -f keys/receipt-signing.key ] || [ ! -f keys/at-rest-kek.key ] || \
	   { [ -z "$$INTAKE_DATABASE_URL" ] && [ ! -f var/intake.db ]; }; then \
		$(BIN)/intake server init; \
	fi
	$(BIN)/intake server run

lint: $(VENV)/.dev
	$(BIN)/ruff check app tests migrations bench
	$(BIN)/ruff format --check app tests migrations bench
	$(BIN)/mypy --strict app
	$(BIN)/hadolint Dockerfile

test: lint
	$(BIN)/coverage erase
	$(BIN)/coverage run -m pytest -q tests/crypto
	$(BIN)/coverage report --include='app/crypto/*' --fail-under=100
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadgroup --ignore=tests/crypto $(PYTEST_ARGS)

bench: $(VENV)/.dev
	$(BIN)/python bench/crypto.py

# Re-resolve the locks from pyproject.toml in throwaway environments.
lock:
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/pip install --quiet . && \
	  { echo "# Exact runtime versions, installable with plain pip: pip install -r requirements.lock"; \
	    echo "# Regenerate with: make lock"; \
	    .lock-venv/bin/pip freeze --exclude witness-intake; } > requirements.lock
	.lock-venv/bin/pip install --quiet ".[dev]" && \
	  { echo "# Exact runtime + development versions: pip install -r requirements-dev.lock"; \
	    echo "# Regenerate with: make lock"; \
	    .lock-venv/bin/pip freeze --exclude witness-intake; } > requirements-dev.lock
	rm -rf .lock-venv build *.egg-info

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .coverage build *.egg-info
