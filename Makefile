# Two commands for a fresh machine with Python 3.11+ and make: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test lint browsers bench lock clean

$(STAMP): requirements.lock pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Shieldwall needs Python 3.11 or newer (set PYTHON=...)")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	@touch $(STAMP)

demo: $(STAMP)
	@PATH="$(abspath $(BIN)):$$PATH" sh examples/demo/run.sh

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy

# The browser tests (tests/browser) drive Debian's Chromium through Playwright, which must
# never download a browser of its own: install the system one when it is missing. The
# threat-model diagram tests also render SVG with Graphviz (`dot`). Only `make test` needs
# them, so `make demo` stays quick on a fresh machine (diagrams fall back to Shieldwall's
# own layout without Graphviz). `apt-get update` runs only when the install fails (stale or
# empty package lists), and sudo only when we are not root and it exists (a container
# usually has neither sudo nor the need for it).
CHROMIUM := /usr/bin/chromium
APT_PACKAGES := chromium chromium-driver graphviz

browsers:
	@if [ ! -x $(CHROMIUM) ] || ! command -v dot >/dev/null 2>&1; then \
		if [ "$$(id -u)" != 0 ] && command -v sudo >/dev/null 2>&1; then sudo=sudo; else sudo=; fi; \
		apt="$$sudo env DEBIAN_FRONTEND=noninteractive apt-get"; \
		echo "$(CHROMIUM) or Graphviz is missing: installing $(APT_PACKAGES)"; \
		$$apt install -y --no-install-recommends $(APT_PACKAGES) \
			|| { $$apt update && $$apt install -y --no-install-recommends $(APT_PACKAGES); }; \
	fi

test: lint browsers
	$(BIN)/pytest

bench: $(STAMP)
	$(BIN)/python -m benchmarks

# Regenerate requirements.lock from pyproject.toml (needs the package index).
lock:
	$(PYTHON) -m venv .lockenv
	.lockenv/bin/pip install --quiet pip-tools
	.lockenv/bin/pip-compile --quiet --extra dev --generate-hashes --allow-unsafe --strip-extras \
		--output-file requirements.lock pyproject.toml

clean:
	rm -rf $(VENV) .lockenv .demo .pytest_cache .mypy_cache .ruff_cache
