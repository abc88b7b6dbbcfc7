#!/usr/bin/env bash
# Set up and run the service on its embedded defaults (SQLite file, in-process chain)
# with realistic demo data.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/foodtrace demo "$@"
