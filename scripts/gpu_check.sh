#!/usr/bin/env bash
# GPU check of the score job's model: training and inference samples/s and peak GPU memory on
# a 1M-row corpus of real texts (see scripts/gpu_check.py). One command on a machine with a
# CUDA GPU:
#   scripts/gpu_check.sh                 # 1M rows
#   scripts/gpu_check.sh --rows 200000   # any option of scripts/gpu_check.py
# Uses $PYTHON (default: .venv/bin/python if present, else python3). Installs the pinned
# numpy, pandas and torch first when they are missing (that step needs PyPI).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-$( [ -x .venv/bin/python ] && echo .venv/bin/python || echo python3 )}
if ! "$PY" -c "import numpy, pandas, torch" 2>/dev/null; then
  echo "gpu_check: installing numpy, pandas and torch (pinned in constraints.txt)" >&2
  "$PY" -m pip install --quiet numpy pandas torch -c constraints.txt
fi
if ! "$PY" -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)"; then
  echo "gpu_check: torch sees no CUDA GPU; run it on a GPU machine (or pass --device cpu to try it)" >&2
  [[ " $* " == *" --device cpu "* ]] || exit 2
fi
export REFINERY_CORPORA=${REFINERY_CORPORA:-$(pwd)/../shared/corpora}
PYTHONUNBUFFERED=1 exec "$PY" scripts/gpu_check.py "$@"
