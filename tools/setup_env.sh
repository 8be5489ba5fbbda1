#!/usr/bin/env bash
# Create (or reuse) the repository's virtual environment .venv/ with the pinned OpenMMLab stack
# (requirements/stack.txt), full mmcv built by tools/install_mmcv.py, and mmsr installed editable.
# Used by `make test` and `make demo`; safe to run again: an up-to-date environment is kept.
#   MMSR_VENV   where to create it (default: .venv)       PYTHON   interpreter (default: python3)
#   MMSR_CACHE_DIR  where the built mmcv wheel is cached (default: ~/.cache/mmsr)
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${MMSR_VENV:-.venv}
STACK=requirements/stack.txt
stamp="$VENV/.mmsr-env"
want=$(cat "$STACK" setup.py tools/install_mmcv.py tools/setup_env.sh | sha256sum | cut -d' ' -f1)

if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] &&
   "$VENV/bin/python" -c 'import mmsr, mmcv.ops, mmseg, mmpretrain' 2>/dev/null; then
  echo "setup_env: $VENV is up to date."
  exit 0
fi

if [ ! -x "$VENV/bin/python" ]; then
  "${PYTHON:-python3}" -m venv "$VENV" || {
    echo "setup_env: error: could not create $VENV; install Python >= 3.9 with venv" \
         "(Debian/Ubuntu: apt-get install python3-venv)." >&2; exit 2; }
fi
pip=("$VENV/bin/python" -m pip install -q -c "$STACK")
echo "setup_env: [1/4] torch, torchvision and build tools"
"${pip[@]}" torch torchvision setuptools packaging wheel ninja
echo "setup_env: [2/4] full mmcv (cached wheel, or built from source)"
"$VENV/bin/python" tools/install_mmcv.py
echo "setup_env: [3/4] mmengine, mmsegmentation, mmpretrain and test tools (pytest, onnx)"
"${pip[@]}" mmengine mmsegmentation mmpretrain ftfy regex pytest onnx onnxscript onnxruntime
echo "setup_env: [4/4] mmsr (editable)"
"${pip[@]}" --no-deps --no-build-isolation -e .
echo "$want" > "$stamp"
"$VENV/bin/python" -c 'import mmcv, mmseg, mmpretrain, mmengine, torch, mmsr
print("setup_env: ready:", "torch", torch.__version__, "| mmengine", mmengine.__version__,
      "| mmcv", mmcv.__version__, "| mmseg", mmseg.__version__, "| mmpretrain",
      mmpretrain.__version__, "| mmsr", mmsr.__version__)'
