#!/usr/bin/env bash
# The main job: install what is needed, load the Wuchang demo into the embedded database, serve the map.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
exec .venv/bin/wangge demo "$@"
