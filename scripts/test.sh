#!/usr/bin/env bash
# Set up curate with its test tools (and Debian's chromium), type-check curate/, then run the whole test suite.
# Browser and slow tests run last (tests/conftest.py orders them).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --dev
# The type checker first (config: [tool.pyright] in pyproject.toml); any error fails the run.
.venv/bin/python -m pyright --pythonpath .venv/bin/python
exec .venv/bin/python -m pytest -q "$@"
