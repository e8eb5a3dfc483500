#!/usr/bin/env bash
# The test command: install what is needed, lint and type-check, then run the whole suite
# against a throwaway database in the embedded PostGIS cluster.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh --browser
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy gis_api boundaries
exec .venv/bin/pytest -q "$@"
