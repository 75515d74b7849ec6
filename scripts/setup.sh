#!/usr/bin/env bash
# Set up curate in ./.venv on a fresh Debian/Ubuntu machine. Idempotent: re-running is quick.
#   bash scripts/setup.sh          the product
#   bash scripts/setup.sh --dev    the product, test tools, the Ray engine and Debian's chromium for browser tests
set -euo pipefail
cd "$(dirname "$0")/.."

dev=0
[ "${1:-}" = "--dev" ] && dev=1
python=${PYTHON:-python3}

if [ "$dev" = 1 ] && ! command -v chromium >/dev/null 2>&1; then
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "installing Debian's chromium for the browser tests"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi
pip=".venv/bin/python -m pip"
# The CPU build of torch first, so nothing pulls a multi-GB CUDA build.
$pip install -q "torch==2.13.0"
if [ "$dev" = 1 ]; then
  $pip install -q -e ".[dev,ray]"   # CI runs the Ray engine's tests too
  # Interop tests run LLaMA-Factory's own dataset converter on curate's exports. Its declared
  # dependencies (torchaudio, gradio, a capped transformers...) would replace the pinned torch, and
  # the converter needs none of them: install it alone (see bench/interop.py).
  $pip install -q --no-deps "llamafactory==0.9.5"
else
  $pip install -q -e .
fi
echo "curate is set up in $(pwd)/.venv"
