#!/usr/bin/env bash
# Set up curate with its test tools (and Debian's chromium), then run the whole test suite.
# Browser and slow tests run last (tests/conftest.py orders them).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --dev
exec .venv/bin/python -m pytest -q "$@"
