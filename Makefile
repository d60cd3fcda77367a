# The two commands: `make run` (the whole stack on embedded defaults) and `make test`.
# Each sets itself up on a fresh machine: a private uv, a virtualenv from uv.lock, the data dir.
# `make help` lists every target; the README explains them.
PYTHON ?= python3
UV_VERSION := 0.13.9
UV := .uv/bin/uv
VENV := .venv
export UV_PYTHON_DOWNLOADS := never

.PHONY: help run demo test lint typecheck schema bench setup clean

help:
	@echo "make run     the whole stack on embedded defaults (GraphiQL :8000/graphql, Temporal UI :8233)"
	@echo "make test    ruff, mypy and pytest (installs the graphql-http audit with npm when present)"
	@echo "make demo    run, and play customers through the demo journey on the simulated WeCom corp"
	@echo "make schema  regenerate schema.graphql from the code"
	@echo "make bench   enrollments/s against bare Temporal (more: python -m bench.graphql_page,"
	@echo "             python -m bench.wecom_welcome, python -m bench.faults; see README, Benchmarks)"
	@echo "make setup   only create .venv from uv.lock"
	@echo "make clean   remove .venv, the private uv and the data dir (.data)"

$(UV):
	$(PYTHON) -m venv .uv
	.uv/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.synced: $(UV) uv.lock pyproject.toml
	$(UV) sync --frozen --all-extras --python $(PYTHON)
	touch $@

setup: $(VENV)/.synced

# The graphql-http audit suite (tests/api/test_graphql_http_audit.py) runs on node, installed
# from tests/api/audit/package-lock.json; on a machine without node that one test skips.
AUDIT := tests/api/audit
$(AUDIT)/node_modules/.package-lock.json: $(AUDIT)/package.json $(AUDIT)/package-lock.json
	@if command -v npm >/dev/null 2>&1; then cd $(AUDIT) && npm ci --no-audit --no-fund; \
	else echo "npm not found: the graphql-http audit test will be skipped"; fi

# The stack and the demo tenant; `demo` also plays customers on the simulated WeCom corp.
run: setup
	$(VENV)/bin/omnijourney run

demo: setup
	$(VENV)/bin/omnijourney demo

test: setup $(AUDIT)/node_modules/.package-lock.json
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/pytest

schema: setup
	$(VENV)/bin/omnijourney export-schema > schema.graphql

# The enrollment benchmark; bench/graphql_page.py and bench/wecom_welcome.py run the same way.
bench: setup
	$(VENV)/bin/python -m bench.enrollments

clean:
	rm -rf $(VENV) .uv .data
