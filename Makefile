# memberlens — the front door. `make demo` and `make test` are all a newcomer needs.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PIP := $(BIN)/python -m pip --disable-pip-version-check -q

.PHONY: demo test test-fast lint bench docs clean lock help

help:
	@echo "make demo   - create .venv, install, build the demo workspace in ./demo and serve it"
	@echo "make test   - install what the tests need and run them all"
	@echo "make test-fast - the tests to run between edits (no slow, browser or server tiers)"
	@echo "make lint   - ruff, mypy, import layering, codespell"
	@echo "make bench  - benchmarks with their peers and ratios (not part of the tests)"

$(STAMP): pyproject.toml constraints.txt
	@$(PY) -c 'import sys; sys.exit("memberlens needs Python 3.11+") if sys.version_info < (3, 11) else None'
	$(PY) -m venv $(VENV)
	$(PIP) install --upgrade "pip>=24"
	$(PIP) install -c constraints.txt -e ".[test]"
	@touch $@

# The console's address; `make demo DEMO_PORT=8080` when 8000 is taken.
DEMO_PORT ?= 8000

demo: $(STAMP)
	$(BIN)/memberlens demo demo --console http://127.0.0.1:$(DEMO_PORT)
	@echo "memberlens is installed in .venv: run 'source .venv/bin/activate' to use it directly"
	@echo "starting the server on the demo workspace; Ctrl-C stops it"
	$(BIN)/memberlens serve -w demo --port $(DEMO_PORT)

# As root, `make test` installs and starts every tier's service itself (PostgreSQL,
# Chromium), so a tier that cannot run fails the run instead of skipping, with the
# reason (scripts/tier.sh, tests/tiers.py). Not root, a tier may skip with its reason
# printed; `make test MEMBERLENS_REQUIRE_TIERS=0` lets root skip one knowingly.
# The tests run in TEST_WORKERS processes (pytest-xdist), a test file's tests in one
# process, so a file's shared fixtures are built once. By default one more process than
# cores: tests that wait on a server, a browser or a child process leave a core idle
# (on 2 cores `make test-fast` took 112 s with 2 processes, 99 s with 3, 109 s with 4).
TEST_WORKERS ?= $(shell echo $$(( $$(nproc 2>/dev/null || echo 1) + 1 )))
PYTEST_PARALLEL := -n $(TEST_WORKERS) --dist loadfile

# The tests start a Python process for each of about 180 commands, and each process of
# an editable install compiles the package's modules anew when no bytecode is kept
# (PYTHONDONTWRITEBYTECODE set, as on some CI images): 0.26 s a process, and pytest
# rewrites every test module in every worker (collection 9.9 s instead of 5.5 s). The
# test runs keep bytecode, in the __pycache__ folders .gitignore leaves out.
test test-fast: export PYTHONDONTWRITEBYTECODE =

test: export MEMBERLENS_REQUIRE_TIERS ?= $(if $(filter 0,$(shell id -u)),1,0)
test: $(STAMP)
	@echo "MEMBERLENS_REQUIRE_TIERS=$$MEMBERLENS_REQUIRE_TIERS"
	@bash scripts/test-services.sh
	@bash scripts/test-browser.sh
	$(BIN)/lint-imports --no-cache
	$(BIN)/python -m pytest $(PYTEST_PARALLEL)

# What a developer runs between edits: no slow, browser or server-tier tests.
test-fast: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_PARALLEL) -m "not slow and not browser and not integration"

lint: $(STAMP)
	$(PIP) install -c constraints.txt -e ".[test,dev]" >/dev/null
	$(BIN)/ruff format --check src tests bench
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache
	$(BIN)/codespell src docs README.md

bench: $(STAMP)
	$(PIP) install -c constraints.txt -e ".[test,bench]" >/dev/null
	$(BIN)/python bench/cli_startup.py
	$(BIN)/python bench/ingest_events.py
	$(BIN)/python bench/events_api.py
	$(BIN)/python bench/features.py
	$(BIN)/python bench/segments.py
	$(BIN)/python bench/clv.py
	$(BIN)/python bench/churn.py
	$(BIN)/python bench/recommend_batch.py
	$(BIN)/python bench/recommend_rerank.py
	$(BIN)/python bench/recommend_api.py
	$(BIN)/python bench/recommend_memory.py

lock:
	$(BIN)/python -m pip freeze --exclude-editable | sed '/^memberlens/d' > constraints.txt

clean:
	rm -rf $(VENV) demo .pytest_cache .hypothesis build

docs: $(STAMP)
	$(BIN)/python scripts/gen_docs.py
