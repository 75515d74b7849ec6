#!/usr/bin/env bash
# Set up curate, build the demo workspace from sample_data/ and open the UI on it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/curate demo .demo
exec .venv/bin/curate ui .demo --port "${PORT:-8501}"
