#!/usr/bin/env bash
# The whole test suite: lint, types, then pytest on SQLite and PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --dev
bash scripts/system-deps.sh
export PATH="$PWD/.venv/bin:$PATH"
ruff check foodtrace tests bench
ruff format --check foodtrace tests bench
mypy foodtrace
pytest -n 2 "$@"
