#!/usr/bin/env bash
# Creates .venv with the PyTorch build the conformance tests and benchmarks use as their oracle.
# Idempotent: an existing .venv that already imports the right torch is kept.
set -euo pipefail
cd "$(dirname "$0")/.."

TORCH_VERSION=2.13.0
PYTHON=${PYTHON:-python3}

if [ -x .venv/bin/python ] && .venv/bin/python -c "import torch, numpy, sys; sys.exit(0 if torch.__version__.split('+')[0] == '$TORCH_VERSION' else 1)" 2>/dev/null; then
  exit 0
fi

echo "Creating .venv with torch==$TORCH_VERSION (CPU)..." >&2
rm -rf .venv
"$PYTHON" -m venv .venv
.venv/bin/pip install --quiet --disable-pip-version-check "torch==$TORCH_VERSION" numpy >&2
.venv/bin/python -c "import torch; print('torch', torch.__version__)" >&2
