#!/usr/bin/env bash
# Idempotent setup: a Python venv with every pinned dependency, and (with --dev)
# the npm toolchain the contract tests and the anvil chain need.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3.11}
stamp_py=.venv/.stamp-$(cat pyproject.toml constraints.txt | sha256sum | cut -c1-16)
if [ ! -f "$stamp_py" ]; then
  [ -x .venv/bin/python ] || "$PY" -m venv .venv
  .venv/bin/python -m pip install -q --upgrade "pip==26.3" 2>&1 | grep -v '^WARNING: Location' || true
  .venv/bin/python -m pip install -q -c constraints.txt -e ".[dev]" 2>&1 | grep -v '^WARNING: Location' || true
  .venv/bin/python -c "import foodtrace, web3, eth, fastapi, sqlalchemy" 
  rm -f .venv/.stamp-*; touch "$stamp_py"
fi
if [ "${1:-}" = "--dev" ] && [ -f package.json ]; then
  stamp_js=node_modules/.stamp-$(cat package.json package-lock.json 2>/dev/null | sha256sum | cut -c1-16)
  if [ ! -f "$stamp_js" ]; then
    npm ci --no-audit --no-fund --loglevel=error
    rm -f node_modules/.stamp-*; touch "$stamp_js"
  fi
fi
